import { z } from 'zod';
import { intRange, named, namedBody } from './json-schema.js';
import { EXAMPLE_FACE_JPEG_BASE64 } from './examples.js';
import { KEYPOINT_LIMITS } from '../services/keypoint.js';

const { maxFaces, landmarkCount } = KEYPOINT_LIMITS;

export const KeypointOptions = named(
  'KeypointsOptions',
  z.strictObject({
    max_faces: intRange(maxFaces.min, maxFaces.max).default(1).meta({ description: 'Most faces to return, the largest first.', example: 1 }),
  }),
);

const imageBase64 = z.string().meta({
  description: 'The photo, JPEG or PNG, in standard base64, with or without a `data:image/...;base64,` prefix.',
  format: 'byte',
  example: EXAMPLE_FACE_JPEG_BASE64,
});
const imageFile = z.string().meta({ description: 'The photo file, JPEG or PNG.', format: 'binary' });

export const KeypointJsonBody = namedBody('KeypointsJsonRequest', KeypointOptions, { image: imageBase64 });
export const KeypointMultipartBody = namedBody('KeypointsMultipartRequest', KeypointOptions, { image: imageFile });

const xy = z.tuple([z.number(), z.number()]);

export const KeypointsAnswer = named('KeypointsAnswer', z.object({
  logid: z.string(),
  image: z.object({ width: z.number(), height: z.number() }),
  faces: z.array(
    z.object({
      rect: z.object({ left: z.number(), top: z.number(), width: z.number(), height: z.number() }),
      score: z.number().meta({ description: 'Detection confidence, 0..1.' }),
      landmarks: z.array(xy).meta({ description: `${landmarkCount} points [x, y] in pixels of the input image, to 1/100 pixel; see the README for their order.` }),
      pose: z
        .object({ yaw: z.number(), pitch: z.number(), roll: z.number() })
        .optional()
        .meta({ description: 'Head pose in degrees, when the backend estimates it.' }),
    }),
  ),
}).meta({
  // The reference keypoint backend's answer for the JPEG that Swagger UI's "try it out" sends
  // (EXAMPLE_FACE_JPEG_BASE64), with the first two of its 106 points, to keep it short.
  example: {
    logid: '20261128180112B6CE390CB30E7A42',
    image: { width: 160, height: 160 },
    faces: [{ rect: { left: 56, top: 21, width: 28, height: 32 }, score: 1, landmarks: [[56, 33], [56, 34.88]], pose: { yaw: 0.1, pitch: 9.9, roll: 1.8 } }],
  },
}));
export type KeypointsAnswer = z.infer<typeof KeypointsAnswer>;
