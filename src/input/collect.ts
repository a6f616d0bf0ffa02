import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import { decodeBase64 } from './base64.js';
import { RawString } from './json-body.js';
import type { OptionValues } from './options.js';

/** One image and the options beside it, from any of the contract's three body forms. */
export interface CollectedImage {
  image: Buffer;
  options: OptionValues;
}

/**
 * JSON `{image: base64, ...options}`, multipart with an `image` file part and option fields,
 * or a raw image body; with each, options may also be query parameters (a body value wins).
 */
export async function collectImage(request: FastifyRequest, field: string): Promise<CollectedImage> {
  const query = request.query as Record<string, string | string[]>;
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) throw new ApiError('INVALID_ARGUMENT', `Query parameter "${key}" is given more than once.`);
  }
  if (request.isMultipart()) return collectMultipart(request, field, query);
  const body = request.body;
  if (Buffer.isBuffer(body)) return { image: body, options: { text: query } };
  if (body === undefined || body === null) {
    throw new ApiError('MISSING_IMAGE', `No image was sent: send JSON with "${field}" in base64, a multipart "${field}" file, or the raw image bytes.`);
  }
  if (typeof body !== 'object' || Array.isArray(body)) throw new ApiError('INVALID_ARGUMENT', 'The JSON body must be an object.');
  const { [field]: value, ...json } = body as Record<string, unknown>;
  if (value === undefined) throw new ApiError('MISSING_IMAGE', `The JSON body has no "${field}" member.`, { errors: [{ field, message: 'is required' }] });
  if (typeof value !== 'string' && !(value instanceof RawString)) {
    throw new ApiError('INVALID_ARGUMENT', `"${field}" must be a base64 string.`, { errors: [{ field, message: 'must be a base64 string' }] });
  }
  return { image: await decodeBase64(value, field, (n) => request.allocate(n)), options: { text: query, json } };
}

async function collectMultipart(request: FastifyRequest, field: string, query: Record<string, unknown>): Promise<CollectedImage> {
  const text: Record<string, unknown> = { ...query };
  let image: Buffer | undefined;
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== field) {
        // Drain it: an unread file part would stall the form.
        part.file.resume();
        throw new ApiError('INVALID_ARGUMENT', `Unexpected file part "${part.fieldname}"; the image goes in "${field}".`);
      }
      image = await part.toBuffer();
    } else if (part.fieldname === field) {
      throw new ApiError('INVALID_ARGUMENT', `"${field}" must be a file part, not a text field.`);
    } else {
      text[part.fieldname] = part.value;
    }
  }
  if (!image) throw new ApiError('MISSING_IMAGE', `The multipart body has no "${field}" file part.`, { errors: [{ field, message: 'is required' }] });
  return { image, options: { text } };
}
