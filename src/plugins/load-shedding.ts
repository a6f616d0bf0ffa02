import underPressure from '@fastify/under-pressure';
import fp from 'fastify-plugin';
import type { Config } from '../config/schema.js';
import { ApiError } from '../errors.js';
import { bodyLimitOf, contentLength } from '../limits/body.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Request body bytes held at once, up to MAX_INFLIGHT_REQUEST_BYTES. */
    requestBytes: InflightBytes;
  }
}

/** A budget of bytes: what requests' bodies may hold at once. */
export class InflightBytes {
  private used = 0;

  constructor(private readonly max: number) {}

  /** Takes `bytes` from the budget; false, taking none, when it has not that many left. */
  reserve(bytes: number): boolean {
    if (this.used + bytes > this.max) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }
}

/**
 * Sheds load before it becomes a growing heap: a cap on request bytes held at once (by
 * Content-Length, checked before the body is read; a chunked body's bytes are taken from the
 * same budget as they arrive, in body-guard.ts), and @fastify/under-pressure for
 * event-loop delay and heap use. Either answers 503 GATEWAY_OVERLOADED with Retry-After, and
 * counts it in visiongate_load_shed_total by reason.
 */
export default fp<{ config: Config }>(
  async (app, { config }) => {
    const budget = new InflightBytes(config.maxInflightBytes);
    app.decorate('requestBytes', budget);
    app.addHook('onRequest', async (request, reply) => {
      const length = contentLength(request) ?? 0;
      // A body its route does not accept gets its 413 from the body limits, not a 503 from here.
      if (length === 0 || length > bodyLimitOf(request).limit) return;
      if (!budget.reserve(length)) {
        app.metrics.shed('inflight_bytes');
        throw new ApiError('GATEWAY_OVERLOADED', 'The gateway holds as many request bytes as it may; try again shortly.');
      }
      reply.raw.once('close', () => budget.release(length));
    });

    await app.register(underPressure, {
      maxEventLoopDelay: config.maxEventLoopDelayMs,
      maxHeapUsedBytes: config.maxHeapUsedBytes,
      retryAfter: 1,
      // Thrown, so that the error handler answers it as it does the in-flight bytes' 503.
      pressureHandler: async (_request, _reply, type, value) => {
        app.metrics.shed(type);
        throw new ApiError('GATEWAY_OVERLOADED', `The gateway is under pressure (${type} ${Math.round(Number(value))}); try again shortly.`);
      },
    });
  },
  { name: 'load-shedding', dependencies: ['error-handler', 'metrics'] },
);
