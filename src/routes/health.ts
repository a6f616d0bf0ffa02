import type { FastifyPluginAsync } from 'fastify';
import { ApiError, toProblem } from '../errors.js';

const PROBE_TIMEOUT_MS = 1000;

const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', { schema: { tags: ['operations'], security: [], summary: 'Liveness: the process serves HTTP' } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        security: [],
        summary: 'Readiness: every backend has an instance that accepts a connection',
        description: 'Answers 200 or 503, with the state of each backend instance.',
      },
    },
    async (request, reply) => {
      const notReady = (message: string, extra: object = {}) => {
        const err = new ApiError('NOT_READY', message);
        return reply.code(err.status).headers(err.headers).type('application/problem+json').send({ ...toProblem(err, request.id), ...extra });
      };
      if (app.draining) return notReady('The gateway is shutting down.');
      const backends = await app.rpc.instances(PROBE_TIMEOUT_MS);
      const down = Object.entries(backends).filter(([, instances]) => !instances.some((i) => i.state !== 'ejected'));
      if (down.length === 0) return { status: 'ready', backends };
      return notReady(`No reachable instance of: ${down.map(([name]) => name).join(', ')}.`, { backends });
    },
  );
};

export default healthRoutes;
