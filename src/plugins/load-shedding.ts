import underPressure from '@fastify/under-pressure';
import fp from 'fastify-plugin';
import type { Config } from '../config/schema.js';
import { ApiError } from '../errors.js';
import { sendProblem } from './error-handler.js';

/**
 * Sheds load before it becomes a growing heap: a cap on request bytes held at once (by
 * Content-Length, checked before the body is read), and @fastify/under-pressure for
 * event-loop delay and heap use. Either answers 503 GATEWAY_OVERLOADED with Retry-After, and
 * counts it in visiongate_load_shed_total by reason.
 */
export default fp<{ config: Config; maxBodyBytes: number }>(
  async (app, { config, maxBodyBytes }) => {
    let inflightBytes = 0;
    app.addHook('onRequest', async (request, reply) => {
      const length = Number(request.headers['content-length']) || 0;
      // A body no route accepts gets its 413 from the body limits, not a 503 from here.
      if (length === 0 || length > maxBodyBytes) return;
      if (inflightBytes + length > config.maxInflightBytes) {
        app.metrics.shed('inflight_bytes');
        throw new ApiError('GATEWAY_OVERLOADED', 'The gateway holds as many request bytes as it may; try again shortly.');
      }
      inflightBytes += length;
      reply.raw.once('close', () => (inflightBytes -= length));
    });

    await app.register(underPressure, {
      maxEventLoopDelay: config.maxEventLoopDelayMs,
      maxHeapUsedBytes: config.maxHeapUsedBytes,
      retryAfter: 1,
      pressureHandler: (request, reply, type, value) => {
        app.metrics.shed(type);
        sendProblem(request, reply, new ApiError('GATEWAY_OVERLOADED', `The gateway is under pressure (${type} ${Math.round(Number(value))}); try again shortly.`));
      },
    });
  },
  { name: 'load-shedding', dependencies: ['error-handler', 'metrics'] },
);
