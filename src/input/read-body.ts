import type { Readable } from 'node:stream';
import { ApiError } from '../errors.js';
import { payloadTooLarge } from '../limits/body.js';

const GC_EVERY_BYTES = 8 * 1024 * 1024;
const gc = (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc;

export interface ReadOptions {
  /** Bytes the stream holds, when known (a Content-Length): one buffer of that size is filled. */
  exact?: number;
  /** Bytes the stream holds at most, when known (a multipart part within its Content-Length). */
  atMost?: number;
  /** Past this, PAYLOAD_TOO_LARGE. */
  limit: number;
  /** What the stream is, for that answer ("The body" when unsaid). */
  name?: string;
  /** Where the buffer comes from, when the size is known (a request's pool lease); a new one otherwise. */
  allocate?: (size: number) => Buffer;
  /** Who watches the request's body as it arrives (see body-guard.ts). */
  meter?: BodyMeter;
}

/** Counts a request's body bytes as they are read (and may refuse them), and ends a read that waits too long. */
export interface BodyMeter {
  /** Throws the answer when these bytes are more than the request may send. */
  take(bytes: number): void;
  /** `next`, or the answer once the body is given up on (too slow), whichever comes first. */
  waitFor<T>(next: Promise<T>): Promise<T>;
}

/**
 * A stream's bytes in one buffer. With a known size or bound it is allocated once and filled as
 * the chunks arrive: fastify's and @fastify/multipart's readers keep the chunks and then
 * concatenate them, the payload twice over for a moment, which for a 50 MB capture set shows
 * in the process's memory. The chunks themselves are garbage once copied, but V8 frees them
 * only at its next collection: where the process runs with --expose-gc (`npm start` does),
 * a young-generation collection (about a millisecond) every 8 MiB frees them while the body
 * is still arriving, instead of letting a payload's worth of them pile up.
 *
 * Refusing a body leaves the stream as it is (not destroyed, which would reset the connection):
 * the answer drains what is left of it.
 */
export async function readBody(stream: Readable, { exact, atMost, limit, name = 'The body', allocate = Buffer.allocUnsafe, meter }: ReadOptions): Promise<Buffer> {
  const tooLarge = () => payloadTooLarge(name, limit);
  const known = exact !== undefined && Number.isInteger(exact) && exact >= 0;
  if (known && exact > limit) throw tooLarge();
  const size = known ? exact : atMost !== undefined && Number.isInteger(atMost) && atMost >= 0 ? Math.min(atMost, limit) : undefined;
  const whole = size !== undefined ? allocate(size) : undefined;
  const parts: Buffer[] = [];
  let received = 0;
  const chunks = stream.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  try {
    for (;;) {
      const next = await (meter ? meter.waitFor(chunks.next()) : chunks.next());
      if (next.done) break;
      const chunk = next.value;
      meter?.take(chunk.length);
      if (received + chunk.length > (size ?? limit)) throw known ? new ApiError('BAD_REQUEST', 'The body is longer than its Content-Length.') : tooLarge();
      if (whole) chunk.copy(whole, received);
      else parts.push(chunk);
      received += chunk.length;
      if (gc && whole && received % GC_EVERY_BYTES < chunk.length && received > chunk.length) gc({ type: 'minor' });
    }
  } finally {
    // Not awaited: after the meter gave up on a read, ending the iteration waits for that read.
    chunks.return?.().catch(() => {});
  }
  if (known && received !== exact) throw new ApiError('BAD_REQUEST', 'The body is shorter than its Content-Length.');
  return whole ? whole.subarray(0, received) : Buffer.concat(parts, received);
}

