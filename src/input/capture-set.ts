import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ApiError, quoted } from '../errors.js';
import { decodeBase64 } from './base64.js';
import { RawString } from './json-body.js';
import { formParts, readPart, readPayloadPart } from './collect.js';
import { busboyFileSize } from '../limits/body.js';
import { inspectImage, type SizeRange } from './image.js';
import { FormOptions, parseOptions, queryOptions, type OptionValues } from './options.js';
import { safeBaseName, uniqueName, unzip, type ZipFile, type ZipLimits } from './zip.js';

export interface CaptureSet<O> {
  images: ZipFile[];
  /** Entries of an archive left out as not images, by name. */
  skipped: string[];
  options: O;
}

export interface CaptureLimits {
  /** Largest zip, in whichever form it comes (MAX_ARCHIVE_BYTES). */
  archiveBytes: number;
  zip: ZipLimits;
  side: SizeRange;
  count: { min: number; max: number };
}

/** A capture set as sent, its option values beside it; `decode` does the work (unzip, base64, sniffing) once they are checked. */
interface Gathered {
  options: OptionValues;
  decode: () => Promise<{ images: ZipFile[]; skipped: string[] }>;
}

/**
 * A capture set from any of the contract's forms: JSON `images: [{name, data}]` or
 * `archive` (base64 zip), multipart `archive` (a zip) or several `images` files, or a raw
 * zip body. The options are checked by `schema` before anything is unzipped or decoded, as for
 * one image; then every image is sniffed and measured, and the count is checked last.
 */
export async function collectCaptureSet<S extends z.ZodObject>(request: FastifyRequest, limits: CaptureLimits, schema: S): Promise<CaptureSet<z.output<S>>> {
  const query = queryOptions(request.query);
  const body = request.body;
  let gathered: Gathered;
  if (request.isMultipart()) {
    gathered = await fromMultipart(request, limits, query);
  } else if (Buffer.isBuffer(body)) {
    gathered = { options: { text: query }, decode: () => fromZip(body, limits) };
  } else if (body && typeof body === 'object' && !Array.isArray(body)) {
    gathered = fromJson(request, body as Record<string, unknown>, limits, query);
  } else {
    throw new ApiError('MISSING_IMAGE', 'No capture set was sent: send a zip, JSON with "images" or "archive", or a multipart form.');
  }
  const options = parseOptions(schema, gathered.options);
  const { images, skipped } = await gathered.decode();
  const n = images.length;
  if (n < limits.count.min) {
    throw new ApiError('NOT_ENOUGH_IMAGES', `The capture set has ${n} usable image${n === 1 ? '' : 's'}; at least ${limits.count.min} are needed.`);
  }
  if (n > limits.count.max) throw new ApiError('TOO_MANY_IMAGES', `The capture set has ${n} images; at most ${limits.count.max} are accepted.`);
  return { images, skipped, options };
}

function checkImage(name: string, data: Buffer, side: SizeRange): void {
  // The file's own name, quoted by the messages as a field's is ("IMG_1.HEIC" is a HEIC image).
  inspectImage(data, name, side);
}

/** Whether an archive entry is a photo to keep: JPEG/PNG kept (and measured), other image formats refused by name, anything else skipped. */
function photoFilter(side: SizeRange) {
  return (name: string, data: Buffer): boolean => {
    try {
      checkImage(name, data, side);
      return true;
    } catch (err) {
      const notAnImage =
        err instanceof ApiError && (err.code === 'MISSING_IMAGE' || (err.code === 'UNSUPPORTED_IMAGE_FORMAT' && /no known image format/.test(err.message)));
      if (notAnImage) return false;
      throw err;
    }
  };
}

async function fromZip(zip: Buffer, limits: CaptureLimits): Promise<{ images: ZipFile[]; skipped: string[] }> {
  const { files, skipped } = await unzip(zip, limits.zip, photoFilter(limits.side));
  return { images: files, skipped };
}

/** Named photos, each sniffed and measured. */
async function photos(items: Array<{ name: string; data: () => Promise<Buffer> }>, side: SizeRange): Promise<{ images: ZipFile[]; skipped: string[] }> {
  const images: ZipFile[] = [];
  for (const { name, data } of items) {
    const bytes = await data();
    checkImage(name, bytes, side);
    images.push({ name, data: bytes });
  }
  return { images, skipped: [] };
}

function fromJson(request: FastifyRequest, body: Record<string, unknown>, limits: CaptureLimits, query: Record<string, unknown>): Gathered {
  const { images, archive, ...json } = body;
  const options = { text: query, json };
  if ((images === undefined) === (archive === undefined)) {
    throw new ApiError('INVALID_ARGUMENT', 'Send exactly one of "images" (a list of {name, data}) and "archive" (a base64 zip).');
  }
  if (archive !== undefined) {
    if (typeof archive !== 'string' && !(archive instanceof RawString)) throw new ApiError('INVALID_ARGUMENT', '"archive" must be a base64 string.');
    return { options, decode: async () => fromZip(await decodeBase64(archive, 'archive', (n) => request.allocate(n)), limits) };
  }
  if (!Array.isArray(images)) throw new ApiError('INVALID_ARGUMENT', '"images" must be a list of {"name", "data"}.');
  if (images.length > limits.count.max) throw new ApiError('TOO_MANY_IMAGES', `The capture set has ${images.length} images; at most ${limits.count.max} are accepted.`);
  const taken = new Set<string>();
  const items = images.map((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new ApiError('INVALID_ARGUMENT', `"images[${i}]" must be an object {"name", "data"}.`);
    const { name, data } = item as { name?: unknown; data?: unknown };
    if (typeof name !== 'string') throw new ApiError('INVALID_ARGUMENT', `"images[${i}].name" must be a string (a file name).`, { errors: [{ field: `images[${i}].name`, message: 'is required: a string' }] });
    if (typeof data !== 'string' && !(data instanceof RawString)) throw new ApiError('INVALID_ARGUMENT', `"images[${i}].data" must be a base64 string.`);
    return {
      name: uniqueName(safeBaseName(name), taken),
      data: () => decodeBase64(data, `images[${i}].data`, (n) => request.allocate(n)),
    };
  });
  return { options, decode: () => photos(items, limits.side) };
}

async function fromMultipart(request: FastifyRequest, limits: CaptureLimits, query: Record<string, unknown>): Promise<Gathered> {
  const form = new FormOptions(query);
  const images: Array<{ name: string; data: () => Promise<Buffer> }> = [];
  const taken = new Set<string>();
  let archive: Buffer | undefined;
  // busboy's per-file limit is the larger of the two; each part is then held to its own.
  const fileSize = busboyFileSize(Math.max(limits.archiveBytes, limits.zip.maxEntryBytes));
  // The parts are read as they come (the option fields may follow the files); nothing is decoded until the options are checked.
  const tooMany = () => new ApiError('TOO_MANY_IMAGES', `The capture set has more than ${limits.count.max} images; at most ${limits.count.max} are accepted.`);
  for await (const part of formParts(request, { limits: { files: limits.count.max + 1, fileSize } }, tooMany)) {
    if (part.type === 'field') {
      // An empty `archive` or `images` field is a file input left empty (Swagger UI sends the one
      // of the two it did not fill): nothing sent, not an unknown option.
      if (part.value === '' && (part.fieldname === 'archive' || part.fieldname === 'images')) continue;
      form.add(part.fieldname, part.value);
    } else if (part.fieldname === 'archive') {
      archive = await readPayloadPart(request, part, limits.archiveBytes, 'The "archive" part');
    } else if (part.fieldname === 'images') {
      const name = uniqueName(safeBaseName(part.filename || `image-${images.length + 1}`), taken);
      const data = await readPart(request, part, { limit: limits.zip.maxEntryBytes, name: `The image ${quoted(name)}` });
      images.push({ name, data: async () => data });
    } else {
      part.file.resume();
      throw new ApiError('INVALID_ARGUMENT', `Unexpected file part ${quoted(part.fieldname)}; send "archive" (a zip) or "images" files.`);
    }
  }
  if (archive && images.length > 0) throw new ApiError('INVALID_ARGUMENT', 'Send either an "archive" or "images" files, not both.');
  const zip = archive;
  return { options: { text: form.text }, decode: () => (zip ? fromZip(zip, limits) : photos(images, limits.side)) };
}
