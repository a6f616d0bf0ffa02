import fp from 'fastify-plugin';
import { bytesOf, routeOf } from './metrics.js';
import { ANONYMOUS } from './partners.js';

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * One log line per request, when it is answered: log id (in every line, from the logger),
 * partner, route, status, bytes each way, time, and the time of each stage. Why it failed,
 * when it did, is in the same line. fastify's own two lines per request are turned off.
 */
export default fp(
  async (app) => {
    app.addHook('onResponse', async (request, reply) => {
      const stages = Object.fromEntries(Object.entries(request.stages.ms).map(([k, v]) => [k, round(v)]));
      request.log.info(
        {
          // A partner's id is already bound to its request's logger (see partners.ts).
          ...(request.partner === ANONYMOUS ? { partner: ANONYMOUS } : {}),
          // The client's address: behind a trusted proxy (TRUST_PROXY), the one it forwarded.
          client: request.ip,
          method: request.method,
          route: routeOf(request),
          url: request.url,
          status: reply.statusCode,
          bytes_in: bytesOf(request.headers['content-length']),
          bytes_out: bytesOf(reply.getHeader('content-length')),
          ms: round(reply.elapsedTime),
          stages,
          ...(request.failure ?? {}),
        },
        'request completed',
      );
    });
  },
  { name: 'request-log', dependencies: ['stages', 'partners', 'error-handler'] },
);
