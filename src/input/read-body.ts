import { ApiError } from '../errors.js';

const GC_EVERY_BYTES = 8 * 1024 * 1024;
const gc = (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc;

export interface ReadOptions {
  /** Bytes the stream holds, when known (a Content-Length): one buffer of that size is filled. */
  exact?: number;
  /** Bytes the stream holds at most, when known (a multipart part within its Content-Length). */
  atMost?: number;
  /** Past this, PAYLOAD_TOO_LARGE. */
  limit: number;
  /** Where the buffer comes from, when the size is known (a request's pool lease); a new one otherwise. */
  allocate?: (size: number) => Buffer;
}

/**
 * A stream's bytes in one buffer. With a known size or bound it is allocated once and filled as
 * the chunks arrive: fastify's and @fastify/multipart's readers keep the chunks and then
 * concatenate them, the payload twice over for a moment, which for a 50 MB capture set shows
 * in the process's memory. The chunks themselves are garbage once copied, but V8 frees them
 * only at its next collection: where the process runs with --expose-gc (`npm start` does),
 * a young-generation collection (about a millisecond) every 8 MiB frees them while the body
 * is still arriving, instead of letting a payload's worth of them pile up.
 */
export async function readBody(stream: AsyncIterable<Buffer>, { exact, atMost, limit, allocate = Buffer.allocUnsafe }: ReadOptions): Promise<Buffer> {
  const tooLarge = () => new ApiError('PAYLOAD_TOO_LARGE', `The body is larger than the ${limit} bytes this route accepts.`);
  const known = exact !== undefined && Number.isInteger(exact) && exact >= 0;
  if (known && exact > limit) throw tooLarge();
  const size = known ? exact : atMost !== undefined && Number.isInteger(atMost) && atMost >= 0 ? Math.min(atMost, limit) : undefined;
  const whole = size !== undefined ? allocate(size) : undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of stream) {
    if (received + chunk.length > (size ?? limit)) throw known ? new ApiError('BAD_REQUEST', 'The body is longer than its Content-Length.') : tooLarge();
    if (whole) chunk.copy(whole, received);
    else chunks.push(chunk);
    received += chunk.length;
    if (gc && whole && received % GC_EVERY_BYTES < chunk.length && received > chunk.length) gc({ type: 'minor' });
  }
  if (known && received !== exact) throw new ApiError('BAD_REQUEST', 'The body is shorter than its Content-Length.');
  return whole ? whole.subarray(0, received) : Buffer.concat(chunks, received);
}

/** The request's Content-Length, when it has one. */
export function contentLength(request: { headers: { 'content-length'?: string } }): number | undefined {
  const value = request.headers['content-length'];
  return value === undefined ? undefined : Number(value);
}
