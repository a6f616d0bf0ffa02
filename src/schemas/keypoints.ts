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
  // The reference keypoint backend's answer for test/fixtures/astronaut.png (2026-11-28), with
  // the first two of its 106 points, to keep the example short.
  example: {
    logid: '20261128114154781D4D175458FCC8',
    image: { width: 512, height: 512 },
    faces: [{ rect: { left: 178, top: 70, width: 93, height: 104 }, score: 1, landmarks: [[179, 111], [179, 116.63]], pose: { yaw: 1.1, pitch: 11.6, roll: 3.1 } }],
  },
}));
export type KeypointsAnswer = z.infer<typeof KeypointsAnswer>;
