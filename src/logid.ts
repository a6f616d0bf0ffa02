import { randomFillSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const VALID = /^[A-Za-z0-9_.-]{1,64}$/;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

// Random bits are drawn 4 KiB at a time, and the time stamp made once a second: a log id is
// made for every request.
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
let stampSecond = -1;
let stamp = '';

/** A new log id: UTC time to the second (sortable, greppable by time) and 64 random bits. */
export function newLogId(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== stampSecond) {
    stampSecond = second;
    stamp = new Date(second * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  }
  if (poolAt + 8 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += 8;
  return stamp + pool.toString('hex', poolAt - 8, poolAt).toUpperCase();
}

/** The request's own `X-Tt-Logid` when it is well formed, otherwise a new one. */
export function logIdFor(req: IncomingMessage): string {
  const given = req.headers['x-tt-logid'];
  return typeof given === 'string' && VALID.test(given) ? given : newLogId();
}

const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_PARENT_ID = '0'.repeat(16);

/**
 * A W3C `traceparent` worth forwarding, or undefined. Trace Context says to ignore one that is
 * malformed, has version ff, or an all-zero trace-id or parent-id: it is not passed on.
 */
export function traceparentOf(req: IncomingMessage): string | undefined {
  const value = req.headers.traceparent;
  if (typeof value !== 'string' || !TRACEPARENT.test(value) || value.startsWith('ff')) return undefined;
  const [, traceId, parentId] = value.split('-');
  return traceId === ZERO_TRACE_ID || parentId === ZERO_PARENT_ID ? undefined : value;
}
