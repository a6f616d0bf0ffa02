import type { FastifyBaseLogger } from 'fastify';
import type { Redis, RedisOptions } from 'ioredis';

/**
 * How the gateway talks to Redis for limits and usage: a command fails rather than waits
 * (no offline queue, no retries of a command, a short timeout), and the connection comes
 * back on its own, so an outage is a quick error to handle, never a pile of waiting requests.
 */
export const REDIS_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 250,
  connectTimeout: 1000,
  retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
};

/** Where a Redis connection goes, for logs: never its URL, which may hold a password. */
export const redisAddress = (redis: Redis): string => `${redis.options.host ?? '?'}:${redis.options.port ?? '?'}/${redis.options.db ?? 0}`;

export interface RedisWatch {
  /** What the connection is for, first in each line ("rate limits", "usage", "jobs"). */
  use: string;
  /** What the gateway does while it is down (a line's end), and once it is back. */
  whileDown: string;
  onceUp: string;
  /** Told `false` at once (not connected yet), then each change. */
  onChange?: (up: boolean) => void;
}

/**
 * Logs a Redis connection's outage once and its return once. ioredis emits an error for every
 * reconnect attempt (a line every 200 ms to 2 s per connection, hundreds a minute), and prints
 * `[ioredis] Unhandled error event` to stderr, outside the JSON log, from a connection with no
 * error listener: every connection the gateway makes is watched here.
 */
export function watchRedis(redis: Redis, log: FastifyBaseLogger, { use, whileDown, onceUp, onChange }: RedisWatch): void {
  let up: boolean | undefined;
  onChange?.(false);
  const change = (now: boolean, err?: Error) => {
    if (now === up) return;
    up = now;
    onChange?.(now);
    if (now) log.info({ redis: redisAddress(redis) }, `${use}: Redis connected; ${onceUp}`);
    else log.warn({ redis: redisAddress(redis), err: err?.message }, `${use}: Redis unreachable; ${whileDown}`);
  };
  redis.on('ready', () => change(true));
  redis.on('error', (err: Error) => change(false, err));
  // Not 'end': no retry strategy here gives up, so it only follows the gateway's own close.
}

/**
 * A warning logger that writes one line per message at most every `ms`, with the count of the
 * errors it left out since the last: for clients (BullMQ's) that report every failed attempt.
 */
export function warnAtMostEvery(ms: number, log: FastifyBaseLogger): (err: Error, fields: Record<string, unknown>, msg: string) => void {
  const last = new Map<string, { at: number; left: number }>();
  return (err, fields, msg) => {
    const key = `${msg}\0${JSON.stringify(fields)}`;
    const seen = last.get(key);
    const now = Date.now();
    if (seen && now - seen.at < ms) {
      seen.left++;
      return;
    }
    log.warn({ ...fields, err: err.message, ...(seen?.left ? { left_out: seen.left } : {}) }, msg);
    last.set(key, { at: now, left: 0 });
  };
}
