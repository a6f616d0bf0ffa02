import rateLimit from '@fastify/rate-limit';
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { ApiError } from '../errors.js';
import { MemoryConcurrency, RedisConcurrency, type ConcurrencyStore } from '../limits/concurrency.js';
import type { KeyRing, PartnerLimits } from '../partners/api-keys.js';
import { REDIS_OPTIONS, watchRedis } from '../redis-options.js';
import { ANONYMOUS, isPartnerRoute } from '../partners/identity.js';

/**
 * Per partner: requests per second (@fastify/rate-limit, a one-second window) and requests in
 * flight. Both in memory, or in Redis (REDIS_URL) so that replicas share one budget. When
 * Redis cannot be reached the gateway fails open: it serves without the limit and says so in
 * its log and in visiongate_redis_up, since refusing every partner over a cache outage is the
 * worse failure.
 */
export default fp<{ config: Config; keys: KeyRing | undefined }>(
  async (app, { config, keys }) => {
    // With no limit anywhere, no hook at all: nothing to count on every request.
    const partnerLimits = [...(keys?.partners.values() ?? [])].map((p) => p.limits);
    const anyRate = config.defaultLimits.requestsPerSecond > 0 || partnerLimits.some((l) => (l.requestsPerSecond ?? 0) > 0);
    const anyConcurrency = config.defaultLimits.maxConcurrent > 0 || partnerLimits.some((l) => (l.maxConcurrent ?? 0) > 0);
    if (!anyRate && !anyConcurrency) return;

    const limitsOf = (request: FastifyRequest): PartnerLimits => ({
      ...config.defaultLimits,
      ...keys?.partners.get(request.partner)?.limits,
    });
    // Without keys every caller is "anonymous": they are told apart by address instead.
    const bucket = (request: FastifyRequest) => (request.partner === ANONYMOUS ? `ip:${request.ip}` : `partner:${request.partner}`);

    let redis: Redis | undefined;
    if (config.redisUrl) {
      redis = new Redis(config.redisUrl, REDIS_OPTIONS);
      watchRedis(redis, app.log, {
        use: 'rate limits',
        whileDown: 'serving without limits until it is back',
        onceUp: 'limits shared by every replica',
        onChange: (up) => app.metrics.redisUp('limits', up),
      });
      app.addHook('onClose', async () => {
        redis!.disconnect();
      });
    }

    if (anyRate) {
      await app.register(rateLimit, {
        global: false,
        timeWindow: 1000,
        max: (request) => limitsOf(request).requestsPerSecond,
        keyGenerator: bucket,
        allowList: (request) => !isPartnerRoute(request) || limitsOf(request).requestsPerSecond === 0,
        enableDraftSpec: true,
        skipOnError: true,
        ...(redis ? { redis, nameSpace: 'visiongate:rate:' } : {}),
        errorResponseBuilder: (_request, context) =>
          new ApiError('RATE_LIMITED', `More than ${context.max} requests a second for this partner; slow down.`, {
            headers: { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
          }),
      });
      app.addHook('onRequest', app.rateLimit());
    }

    if (!anyConcurrency) return;
    const slots = new WeakMap<FastifyRequest, () => Promise<void>>();
    const inFlight: ConcurrencyStore = redis
      ? new RedisConcurrency(redis, Math.max(...Object.values(config.backends).map((b) => b.timeoutMs)) + 60_000)
      : new MemoryConcurrency();
    app.addHook('onRequest', async (request, reply) => {
      const max = limitsOf(request).maxConcurrent;
      if (!isPartnerRoute(request) || max === 0) return;
      const who = bucket(request);
      // Log ids can come from the client: a slot's id must be unique all the same.
      const slot = `${request.id}:${randomUUID()}`;
      let acquired: boolean;
      try {
        acquired = await inFlight.acquire(who, slot, max);
      } catch (err) {
        request.log.warn({ err: (err as Error).message }, 'concurrency limit not checked: Redis failed');
        return;
      }
      if (!acquired) throw new ApiError('TOO_MANY_CONCURRENT_REQUESTS', `This partner already has ${max} requests in flight; wait for one to finish.`);
      let released: Promise<void> | undefined;
      const release = () => (released ??= inFlight.release(who, slot).catch(() => undefined));
      slots.set(request, release);
      // A request whose client went away is never answered: its slot goes when the socket does.
      reply.raw.once('close', () => void release());
    });
    // The slot is given back before the answer goes out, so that a client who sends its next
    // request on receiving this answer finds it free, on any replica.
    app.addHook('onSend', async (request) => {
      await slots.get(request)?.();
    });
  },
  { name: 'rate-limits', dependencies: ['partners', 'metrics'] },
);
