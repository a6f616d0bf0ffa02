import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { ApiError, toProblem } from '../errors.js';
import { problemResponses } from '../schemas/problem.js';

const PROBE_TIMEOUT_MS = 1000;

const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', {
      schema: {
        tags: ['operations'],
        security: [],
        summary: 'Liveness: the process serves HTTP',
        response: { 200: { description: 'Serving.', content: { 'application/json': { schema: { type: 'object', properties: { status: { type: 'string' } } }, example: { status: 'ok' } } } } },
      },
    }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        security: [],
        summary: 'Readiness: every backend has an instance that accepts a connection',
        description: 'Answers 200 or 503, with the state of each backend instance.',
        response: {
          200: {
            description: 'Every backend has an instance up.',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { status: { type: 'string' }, backends: { type: 'object' } } },
                example: { status: 'ready', backends: { keypoint: [{ address: '10.0.0.7:9090', state: 'up', inFlight: 0 }] } },
              },
            },
          },
          ...problemResponses(['NOT_READY']),
        },
      },
    },
    // The reply's type stays the general one: the 503 is built here, not checked against the schema.
    async (request, reply: FastifyReply) => {
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
