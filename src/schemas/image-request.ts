import type { z } from 'zod';
import { jsonSchema, ref } from './json-schema.js';

/** A file, in OpenAPI: Swagger UI shows a file picker, and a download button for answers. */
export const BINARY = { schema: { type: 'string', format: 'binary' } };

/**
 * The OpenAPI request of a route that takes one image in the contract's three forms: JSON with
 * base64, multipart with a file, or the raw image; its options also as query parameters.
 */
export function imageRequestSchema(options: z.ZodObject, jsonBody: z.ZodObject, multipartBody: z.ZodObject) {
  return {
    body: {
      content: {
        'application/json': { schema: ref(jsonBody) },
        'multipart/form-data': { schema: ref(multipartBody) },
        'image/jpeg': BINARY,
        'image/png': BINARY,
      },
    },
    querystring: jsonSchema(options),
  };
}
