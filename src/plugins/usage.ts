import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { bodyBytes, bytesOf } from '../limits/body.js';
import { isPartnerRoute } from '../partners/identity.js';
import { REDIS_OPTIONS, watchRedis } from '../redis-options.js';
import type { UsageCounts, UsageRow } from '../usage/counts.js';
import { DiskUsageStore } from '../usage/disk-store.js';
import { UsageRecorder } from '../usage/recorder.js';
import { RedisUsageStore } from '../usage/redis-store.js';

declare module 'fastify' {
  interface FastifyInstance {
    usage: {
      /** Rows from `from` to `to` (UTC dates), of one partner or all; this process's counts written first. */
      read(from: string, to: string, partner?: string): Promise<UsageRow[]>;
      /** Adds figures of work done outside a request (a job's run) to today's (UTC) counts. */
      count(partner: string, route: string, counts: Partial<UsageCounts>): void;
    };
  }
}

/** Routes that are not billed: a partner reading its own usage. */
const NOT_COUNTED = new Set(['/v1/usage']);

/**
 * Usage for billing: per partner, partner route and UTC day, requests by outcome (2xx, 4xx:
 * the partner's own fault, 5xx: ours), bytes in and out, images the backends
 * processed, backend time (a job's run included, see jobs/runner.ts) and jobs submitted. Kept in Redis with REDIS_URL (shared by every
 * replica), else on local disk (USAGE_DIR), and written once a second, not per request.
 */
export default fp<{ config: Config }>(
  async (app, { config }) => {
    const redisStore = (url: string) => {
      // Writes are in the background and reads are not a hot path: a slow Redis may take 2 s.
      const redis = new Redis(url, { ...REDIS_OPTIONS, commandTimeout: 2000 });
      watchRedis(redis, app.log, { use: 'usage', whileDown: 'counts kept in memory until it is back', onceUp: 'counts shared by every replica', onChange: (up) => app.metrics.redisUp('usage', up) });
      return new RedisUsageStore(redis, config.usage.retentionDays);
    };
    const store = config.redisUrl ? redisStore(config.redisUrl) : new DiskUsageStore(config.usage.dir);
    let failing = false;
    const recorder = new UsageRecorder(store, config.usage.flushMs, (err) => {
      // Once per outage: the counts are kept and written when the store is back.
      if (failing) return;
      failing = true;
      app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'usage: counts could not be written; kept in memory and tried again');
    });
    const flush = async () => {
      await recorder.flush();
      if (failing) app.log.info('usage: counts written again');
      failing = false;
    };

    app.decorate('usage', {
      read: async (from: string, to: string, partner?: string) => {
        await flush().catch(() => undefined);
        return store.read(from, to, partner);
      },
      count: (partner: string, route: string, counts: Partial<UsageCounts>) => recorder.count(partner, route, counts),
    });

    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url;
      if (!route || !isPartnerRoute(request) || NOT_COUNTED.has(route)) return;
      const status = reply.statusCode;
      recorder.count(request.partner, route, {
        requests: 1,
        succeeded: status < 400 ? 1 : 0,
        client_errors: status >= 400 && status < 500 ? 1 : 0,
        server_errors: status >= 500 ? 1 : 0,
        bytes_in: bodyBytes(request),
        bytes_out: bytesOf(reply.getHeader('content-length')),
        images: request.imagesProcessed,
        backend_ms: Math.round(request.stages.ms.rpc ?? 0),
        jobs: status === 202 && reply.getHeader('preference-applied') === 'respond-async' ? 1 : 0,
      });
    });
    app.addHook('onClose', async () => recorder.close());
  },
  { name: 'usage', dependencies: ['stages', 'partners', 'request-context', 'body-guard', 'metrics'] },
);
