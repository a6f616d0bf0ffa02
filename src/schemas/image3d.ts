import { z } from 'zod';
import { EXAMPLE_FACE_JPEG_BASE64 } from './examples.js';
import { intRange, named, namedBody } from './json-schema.js';
import { jobLogid } from './logid.js';
import { IMAGE3D_LIMITS } from '../services/image3d.js';

const { imageSide, speed, durationMs, motionNames: MOTIONS } = IMAGE3D_LIMITS;
export const VIDEO_FORMATS = ['mp4', 'gif'] as const;

const speedMessage = `must be a number from ${speed.min} to ${speed.max.toFixed(1)}`;

export const Image3dOptions = named('Image3dOptions', z.strictObject({
  speed: z
    .number({ error: speedMessage })
    .min(speed.min, speedMessage)
    .max(speed.max, speedMessage)
    .default(1)
    .meta({ description: 'Playback speed: at 2.0 the video lasts half as long as at 1.0.', example: 1 }),
  motion: z
    .enum(MOTIONS, { error: `must be one of ${MOTIONS.join(', ')}` })
    .default('zoom')
    .meta({ description: 'The camera path.', example: 'zoom' }),
  duration_ms: intRange(durationMs.min, durationMs.max)
    .default(3000)
    .meta({ description: 'Length of the camera path at speed 1.0, in milliseconds.', example: 3000 }),
  format: z
    .enum(VIDEO_FORMATS, { error: `must be one of ${VIDEO_FORMATS.join(', ')}` })
    .default('mp4')
    .meta({ description: 'The video format: H.264 MP4 or animated GIF.', example: 'mp4' }),
}));

export const Image3dJsonBody = namedBody('Image3dJsonRequest', Image3dOptions, {
  image: z.string().meta({
    description: `The photo, JPEG or PNG, ${imageSide.min} to ${imageSide.max} pixels a side, in standard base64 (a \`data:\` prefix is fine).`,
    format: 'byte',
    example: EXAMPLE_FACE_JPEG_BASE64,
  }),
});
export const Image3dMultipartBody = namedBody(
  'Image3dMultipartRequest',
  Image3dOptions,
  { image: z.string().meta({ description: 'The photo file, JPEG or PNG.', format: 'binary' }) },
);

export const Image3dJsonAnswer = named('Image3dJsonAnswer', z.object({
  logid: z.string(),
  job_logid: jobLogid,
  mime_type: z.enum(['video/mp4', 'image/gif']),
  frame_count: z.number(),
  video: z.string().meta({ description: 'The video, base64.', format: 'byte' }),
  depth_png: z.string().meta({ description: 'The estimated depth map, an 8-bit greyscale PNG (white is near), base64.', format: 'byte' }),
}).meta({
  example: { logid: '20261125083046BA006CE17531D37D', mime_type: 'video/mp4', frame_count: 90, video: 'AAAAIGZ0eXBpc29tAAACAGlzb21pc28y', depth_png: 'iVBORw0KGgoAAAANSUhEUgAA' },
}));
export type Image3dJsonAnswer = z.infer<typeof Image3dJsonAnswer>;
