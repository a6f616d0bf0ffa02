import type { Multipart, MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ApiError, quoted } from '../errors.js';
import { busboyFileSize, contentLength, routeLimits } from '../limits/body.js';
import { readBody, type ReadOptions } from './read-body.js';
import { decodeBase64 } from './base64.js';
import { RawString } from './json-body.js';
import { FormOptions, parseOptions, queryOptions, type OptionValues } from './options.js';

/** One image and the options beside it, checked. */
export interface CollectedImage<O> {
  image: Buffer;
  options: O;
}

/** An image's bytes, once the options are checked: decoding base64 is the work a bad option must not cost. */
interface Gathered {
  image: () => Promise<Buffer>;
  options: OptionValues;
}

/**
 * JSON `{image: base64, ...options}`, multipart with an `image` file part and option fields,
 * or a raw image body; with each, options may also be query parameters (a body value wins).
 * The options are checked by `schema` before the image is decoded, as for a capture set.
 */
export async function collectImage<S extends z.ZodObject>(request: FastifyRequest, field: string, schema: S): Promise<CollectedImage<z.output<S>>> {
  const gathered = await gather(request, field, queryOptions(request.query));
  const options = parseOptions(schema, gathered.options);
  return { image: await gathered.image(), options };
}

async function gather(request: FastifyRequest, field: string, query: Record<string, unknown>): Promise<Gathered> {
  if (request.isMultipart()) return collectMultipart(request, field, query);
  const body = request.body;
  if (Buffer.isBuffer(body)) return { image: async () => body, options: { text: query } };
  if (body === undefined || body === null) {
    throw new ApiError('MISSING_IMAGE', `No image was sent: send JSON with "${field}" in base64, a multipart "${field}" file, or the raw image bytes.`);
  }
  if (typeof body !== 'object' || Array.isArray(body)) throw new ApiError('INVALID_ARGUMENT', 'The JSON body must be an object.');
  const { [field]: value, ...json } = body as Record<string, unknown>;
  if (value === undefined) throw new ApiError('MISSING_IMAGE', `The JSON body has no "${field}" member.`, { errors: [{ field, message: 'is required' }] });
  if (typeof value !== 'string' && !(value instanceof RawString)) {
    throw new ApiError('INVALID_ARGUMENT', `"${field}" must be a base64 string.`, { errors: [{ field, message: 'must be a base64 string' }] });
  }
  return { image: () => decodeBase64(value, field, (n) => request.allocate(n)), options: { text: query, json } };
}

/**
 * A multipart request's parts; waiting for the next one is bounded by the request's body guard.
 * One file part more than the route takes is `tooManyFiles` (what the route says of it), not
 * @fastify/multipart's 413 "reach files limit": a form's shape, not its size.
 */
export async function* formParts(request: FastifyRequest, options: Parameters<FastifyRequest['parts']>[0], tooManyFiles: () => ApiError): AsyncGenerator<Multipart> {
  const parts = request.parts(options)[Symbol.asyncIterator]();
  const guard = request.bodyGuard;
  for (;;) {
    const next = await (guard ? guard.waitFor(parts.next()) : parts.next()).catch((err: unknown) => {
      throw (err as { code?: string }).code === 'FST_FILES_LIMIT' ? tooManyFiles() : err;
    });
    if (next.done) return;
    yield next.value;
  }
}

/**
 * A file part's bytes, counted against the request's body as they come; past the part's limit
 * 413, and the rest of the part is read and dropped so that the form keeps flowing.
 */
export async function readPart(request: FastifyRequest, part: MultipartFile, options: Omit<ReadOptions, 'meter'>): Promise<Buffer> {
  try {
    return await readBody(part.file, { ...options, meter: request.bodyGuard });
  } catch (err) {
    part.file.resume();
    throw err;
  }
}

/**
 * The one file part that carries a form's payload (an image, an archive): read like a raw body,
 * into one pooled buffer of at most the body's Content-Length, rather than chunks and then their
 * concatenation.
 */
export const readPayloadPart = (request: FastifyRequest, part: MultipartFile, limit: number, name: string): Promise<Buffer> =>
  readPart(request, part, { atMost: contentLength(request), limit, name, allocate: (n) => request.allocate(n) });

async function collectMultipart(request: FastifyRequest, field: string, query: Record<string, unknown>): Promise<Gathered> {
  const form = new FormOptions(query);
  let image: Buffer | undefined;
  const limit = routeLimits(request).imageBytes;
  const oneFile = () => new ApiError('INVALID_ARGUMENT', `Send one file part, "${field}"; this form has more.`);
  for await (const part of formParts(request, { limits: { fileSize: busboyFileSize(limit) } }, oneFile)) {
    if (part.type === 'file') {
      if (part.fieldname !== field) {
        // Drain it: an unread file part would stall the form.
        part.file.resume();
        throw new ApiError('INVALID_ARGUMENT', `Unexpected file part ${quoted(part.fieldname)}; the image goes in "${field}".`);
      }
      image = await readPayloadPart(request, part, limit, `The "${field}" part`);
    } else if (part.fieldname === field) {
      throw new ApiError('INVALID_ARGUMENT', `"${field}" must be a file part, not a text field.`);
    } else {
      form.add(part.fieldname, part.value);
    }
  }
  if (!image) throw new ApiError('MISSING_IMAGE', `The multipart body has no "${field}" file part.`, { errors: [{ field, message: 'is required' }] });
  const bytes = image;
  return { image: async () => bytes, options: { text: form.text } };
}
