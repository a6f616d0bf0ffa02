import { z } from 'zod';
import { intRange, named, namedBody } from './json-schema.js';
import { EXAMPLE_FACE_JPEG_BASE64 } from './examples.js';

/** The IDL's limits (idl/keypoint.thrift). */
export const KEYPOINT_IMAGE_SIDE = { min: 32, max: 4096 };

export const KeypointOptions = named(
  'KeypointsOptions',
  z.strictObject({
    max_faces: intRange(1, 10).default(1).meta({ description: 'Most faces to return, the largest first.', example: 1 }),
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
      landmarks: z.array(xy).meta({ description: '106 points [x, y] in pixels of the input image, to 1/100 pixel; see the README for their order.' }),
      pose: z
        .object({ yaw: z.number(), pitch: z.number(), roll: z.number() })
        .optional()
        .meta({ description: 'Head pose in degrees, when the backend estimates it.' }),
    }),
  ),
}).meta({
  example: {
    logid: '20261125083046BA006CE17531D37D',
    image: { width: 512, height: 512 },
    // Two of the 106 points, to keep the example short.
    faces: [{ rect: { left: 176, top: 66, width: 95, height: 95 }, score: 0.985, landmarks: [[217.8, 102.1], [219.35, 108.9]] }],
  },
}));
export type KeypointsAnswer = z.infer<typeof KeypointsAnswer>;
