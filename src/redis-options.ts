import type { RedisOptions } from 'ioredis';

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
