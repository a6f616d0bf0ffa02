import { z } from 'zod';
import { EXAMPLE_FACE_JPEG_BASE64 } from './examples.js';
import { intRange, named, namedBody } from './json-schema.js';
import { jobLogid } from './logid.js';
import { ARSCAN_LIMITS } from '../services/arscan.js';

const { imageSide, imageCount, textureSize } = ARSCAN_LIMITS;
export const MODEL_FORMATS = ['glb', 'obj'] as const;

export const ArscanOptions = named('ArscanOptions', z.strictObject({
  format: z
    .enum(MODEL_FORMATS, { error: `must be one of ${MODEL_FORMATS.join(', ')}` })
    .default('glb')
    .meta({ description: 'The model format: binary glTF, or OBJ with its MTL and texture.', example: 'glb' }),
  // Examples equal the defaults: Swagger UI pre-fills them, and "Try it out" should send what the route would do anyway.
  texture_size: intRange(textureSize.min, textureSize.max).default(2048).meta({ description: 'Texture edge in pixels.', example: 2048 }),
}));

const b64 = (description: string) => z.string().meta({ description, format: 'byte' });

export const ArscanJsonBody = namedBody('ArscanJsonRequest', ArscanOptions, {
  images: z
    .array(z.strictObject({ name: z.string().meta({ description: 'File name (used as a name only, never as a path).' }), data: b64('The photo, JPEG or PNG, base64.') }))
    .optional()
    .meta({ description: `${imageCount.min} to ${imageCount.max} photos of one object, ${imageSide.min} to ${imageSide.max} pixels a side. Send this or \`archive\`.` }),
  archive: b64('A zip of the photos, base64. Send this or `images`.').optional(),
}, {
  // One of the two forms (an example built from the fields would send both, which is refused): three
  // photos small enough to inline, so Swagger UI's "Try it out" makes a model as it is.
  example: { images: ['a', 'b', 'c'].map((n) => ({ name: `${n}.jpg`, data: EXAMPLE_FACE_JPEG_BASE64 })), format: 'glb', texture_size: 2048 },
});

export const ArscanMultipartBody = namedBody('ArscanMultipartRequest', ArscanOptions, {
  archive: z.string().meta({ description: 'A zip of the photos. Send this or `images`.', format: 'binary' }).optional(),
  // An empty example: otherwise Swagger UI's form starts with one item, which it sends as the text "string".
  images: z.array(z.string().meta({ format: 'binary' })).optional().meta({ description: 'The photos, one file part each.', example: [] }),
});

export const ArscanJsonAnswer = named('ArscanJsonAnswer', z.object({
  logid: z.string(),
  job_logid: jobLogid,
  format: z.enum(MODEL_FORMATS),
  vertex_count: z.number(),
  images_used: z.number(),
  skipped: z.array(z.string()).meta({ description: 'Archive entries left out as not images.' }),
  model_zip: z.string().meta({ description: 'The model zip, base64.', format: 'byte' }),
}).meta({
  example: { logid: '20261125083046BA006CE17531D37D', format: 'glb', vertex_count: 96, images_used: 3, skipped: ['notes.txt'], model_zip: 'UEsDBBQAAAAIAAAAIQA=' },
}));
export type ArscanJsonAnswer = z.infer<typeof ArscanJsonAnswer>;
