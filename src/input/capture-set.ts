import type { FastifyRequest } from 'fastify';
import { ApiError, quoted } from '../errors.js';
import { decodeBase64 } from './base64.js';
import { RawString } from './json-body.js';
import { formParts, readPart } from './collect.js';
import { busboyFileSize, contentLength } from '../limits/body.js';
import { inspectImage, type SizeRange } from './image.js';
import type { OptionValues } from './options.js';
import { safeBaseName, uniqueName, unzip, type ZipFile, type ZipLimits } from './zip.js';

export interface CaptureSet {
  images: ZipFile[];
  /** Entries of an archive left out as not images, by name. */
  skipped: string[];
  options: OptionValues;
}

export interface CaptureLimits {
  /** Largest zip, in whichever form it comes (MAX_ARCHIVE_BYTES). */
  archiveBytes: number;
  zip: ZipLimits;
  side: SizeRange;
  count: { min: number; max: number };
}

/**
 * A capture set from any of the contract's forms: JSON `images: [{name, data}]` or
 * `archive` (base64 zip), multipart `archive` (a zip) or several `images` files, or a raw
 * zip body. Every image is sniffed and measured; the count is checked last.
 */
export async function collectCaptureSet(request: FastifyRequest, limits: CaptureLimits): Promise<CaptureSet> {
  const query = request.query as Record<string, unknown>;
  let set: CaptureSet;
  if (request.isMultipart()) {
    set = await fromMultipart(request, limits, query);
  } else if (Buffer.isBuffer(request.body)) {
    set = { ...(await fromZip(request.body, limits)), options: { text: query } };
  } else if (request.body && typeof request.body === 'object' && !Array.isArray(request.body)) {
    set = await fromJson(request, request.body as Record<string, unknown>, limits, query);
  } else {
    throw new ApiError('MISSING_IMAGE', 'No capture set was sent: send a zip, JSON with "images" or "archive", or a multipart form.');
  }
  const n = set.images.length;
  if (n < limits.count.min) {
    throw new ApiError('NOT_ENOUGH_IMAGES', `The capture set has ${n} usable image${n === 1 ? '' : 's'}; at least ${limits.count.min} are needed.`);
  }
  if (n > limits.count.max) throw new ApiError('TOO_MANY_IMAGES', `The capture set has ${n} images; at most ${limits.count.max} are accepted.`);
  return set;
}

function checkImage(name: string, data: Buffer, side: SizeRange): void {
  inspectImage(data, `image "${name}"`, side);
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

async function fromZip(zip: Buffer, limits: CaptureLimits): Promise<Omit<CaptureSet, 'options'>> {
  const { files, skipped } = await unzip(zip, limits.zip, photoFilter(limits.side));
  return { images: files, skipped };
}

async function fromJson(request: FastifyRequest, body: Record<string, unknown>, limits: CaptureLimits, query: Record<string, unknown>): Promise<CaptureSet> {
  const { images, archive, ...json } = body;
  if ((images === undefined) === (archive === undefined)) {
    throw new ApiError('INVALID_ARGUMENT', 'Send exactly one of "images" (a list of {name, data}) and "archive" (a base64 zip).');
  }
  if (archive !== undefined) {
    if (typeof archive !== 'string' && !(archive instanceof RawString)) throw new ApiError('INVALID_ARGUMENT', '"archive" must be a base64 string.');
    return { ...(await fromZip(await decodeBase64(archive, 'archive', (n) => request.allocate(n)), limits)), options: { text: query, json } };
  }
  if (!Array.isArray(images)) throw new ApiError('INVALID_ARGUMENT', '"images" must be a list of {"name", "data"}.');
  if (images.length > limits.count.max) throw new ApiError('TOO_MANY_IMAGES', `The capture set has ${images.length} images; at most ${limits.count.max} are accepted.`);
  const taken = new Set<string>();
  const out: ZipFile[] = [];
  for (const [i, item] of images.entries()) {
    const { name, data } = (item ?? {}) as { name?: unknown; data?: unknown };
    if (typeof data !== 'string' && !(data instanceof RawString)) throw new ApiError('INVALID_ARGUMENT', `"images[${i}].data" must be a base64 string.`);
    const safe = uniqueName(typeof name === 'string' ? safeBaseName(name) : `image-${i + 1}`, taken);
    const bytes = await decodeBase64(data, `images[${i}].data`, (n) => request.allocate(n));
    checkImage(safe, bytes, limits.side);
    out.push({ name: safe, data: bytes });
  }
  return { images: out, skipped: [], options: { text: query, json } };
}

async function fromMultipart(request: FastifyRequest, limits: CaptureLimits, query: Record<string, unknown>): Promise<CaptureSet> {
  const text: Record<string, unknown> = { ...query };
  const images: ZipFile[] = [];
  const taken = new Set<string>();
  let archive: Buffer | undefined;
  // busboy's per-file limit is the larger of the two; each part is then held to its own.
  const fileSize = busboyFileSize(Math.max(limits.archiveBytes, limits.zip.maxEntryBytes));
  for await (const part of formParts(request, { limits: { files: limits.count.max + 1, fileSize } })) {
    if (part.type === 'field') {
      // An empty `archive` or `images` field is a file input left empty (Swagger UI sends the one
      // of the two it did not fill): nothing sent, not an unknown option.
      if (part.value === '' && (part.fieldname === 'archive' || part.fieldname === 'images')) continue;
      text[part.fieldname] = part.value;
    } else if (part.fieldname === 'archive') {
      // Read into one buffer of at most the body's size, rather than chunks and then their concatenation.
      archive = await readPart(request, part, { atMost: contentLength(request), limit: limits.archiveBytes, name: 'The "archive" part', allocate: (n) => request.allocate(n) });
    } else if (part.fieldname === 'images') {
      const name = uniqueName(safeBaseName(part.filename || `image-${images.length + 1}`), taken);
      const data = await readPart(request, part, { limit: limits.zip.maxEntryBytes, name: `The image ${quoted(name)}` });
      checkImage(name, data, limits.side);
      images.push({ name, data });
    } else {
      part.file.resume();
      throw new ApiError('INVALID_ARGUMENT', `Unexpected file part ${quoted(part.fieldname)}; send "archive" (a zip) or "images" files.`);
    }
  }
  if (archive && images.length > 0) throw new ApiError('INVALID_ARGUMENT', 'Send either an "archive" or "images" files, not both.');
  if (archive) return { ...(await fromZip(archive, limits)), options: { text } };
  return { images, skipped: [], options: { text } };
}
