import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const VALID = /^[A-Za-z0-9_.-]{1,64}$/;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** A new log id: UTC time to the second (sortable, greppable by time) and 64 random bits. */
export function newLogId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return stamp + randomBytes(8).toString('hex').toUpperCase();
}

/** The request's own `X-Tt-Logid` when it is well formed, otherwise a new one. */
export function logIdFor(req: IncomingMessage): string {
  const given = req.headers['x-tt-logid'];
  return typeof given === 'string' && VALID.test(given) ? given : newLogId();
}

/** A W3C `traceparent` worth forwarding, or undefined. */
export function traceparentOf(req: IncomingMessage): string | undefined {
  const value = req.headers.traceparent;
  return typeof value === 'string' && TRACEPARENT.test(value) && !value.startsWith('ff') ? value : undefined;
}
