import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { bytesOf, routeOf } from './metrics.js';
import { ANONYMOUS } from './partners.js';

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * One log line per request, when it is answered (or abandoned by its client): log id (in every line, from the logger),
 * partner, route, status, bytes each way, time, and the time of each stage. Why it failed,
 * when it did, is in the same line. fastify's own two lines per request are turned off.
 */
export default fp(
  async (app) => {
    const fields = (request: FastifyRequest) => ({
      // A partner's id is already bound to its request's logger (see partners.ts).
      ...(request.partner === ANONYMOUS ? { partner: ANONYMOUS } : {}),
      // The client's address: behind a trusted proxy (TRUST_PROXY), the one it forwarded.
      client: request.ip,
      method: request.method,
      route: routeOf(request),
      url: request.url,
      bytes_in: bytesOf(request.headers['content-length']),
      stages: Object.fromEntries(Object.entries(request.stages.ms).map(([k, v]) => [k, round(v)])),
    });
    app.addHook('onResponse', async (request, reply) => {
      request.log.info(
        {
          ...fields(request),
          status: reply.statusCode,
          bytes_out: bytesOf(reply.getHeader('content-length')),
          ms: round(reply.elapsedTime),
          ...(request.failure ?? {}),
        },
        'request completed',
      );
    });
    // A request whose client leaves before the answer is never completed: this is its line.
    app.addHook('onRequest', async (request, reply) => {
      request.abandoned.addEventListener('abort', () => request.log.info({ ...fields(request), ms: round(reply.elapsedTime) }, 'request abandoned'), { once: true });
    });
  },
  { name: 'request-log', dependencies: ['stages', 'partners', 'error-handler', 'request-context'] },
);
