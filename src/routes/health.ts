import type { FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import type { BackendConfig, BackendName } from '../config/schema.js';
import { ApiError, toProblem } from '../errors.js';
import type { InstanceReport } from '../rpc/backend.js';
import { problemResponses } from '../schemas/problem.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The backend a route calls: readiness reports the route as servable while it has an instance up. */
    backend?: BackendName;
  }
}

const PROBE_TIMEOUT_MS = 1000;

type State = 'up' | 'down';

interface BackendReadiness {
  state: State;
  /** Served by the built-in reference backend, a CPU stand-in, not the real service. */
  reference?: true;
  routes: string[];
  instances: InstanceReport[];
}

const EXAMPLE = {
  status: 'degraded',
  routes: { 'POST /v1/keypoints': 'down', 'POST /v1/image3d/videos': 'up', 'POST /v1/arscan/models': 'up' },
  backends: {
    keypoint: { state: 'down', routes: ['POST /v1/keypoints'], instances: [{ address: '10.0.0.7:9090', state: 'ejected', inFlight: 0, retryInMs: 800, error: 'connect ECONNREFUSED' }] },
    image3d: { state: 'up', routes: ['POST /v1/image3d/videos'], instances: [{ address: '10.0.0.8:9090', state: 'up', inFlight: 1 }] },
    arscan: { state: 'up', reference: true, routes: ['POST /v1/arscan/models'], instances: [{ address: '127.0.0.1:40123', state: 'up', inFlight: 0 }] },
  },
};

/**
 * Liveness, and readiness per backend. A replica is ready while at least one partner route can
 * be served: a keypoint outage must not take the replicas that still serve arscan out of the
 * load balancer (every replica sees the same backends, so none would be left to route to).
 * `?strict` asks for every route instead, for a check that wants the whole service.
 */
export default fp<{ backends: Record<BackendName, BackendConfig> }>(
  async (app, { backends: configured }) => {
    // Which routes each backend serves, from the routes' own `config.backend`.
    const routesOf = new Map<BackendName, string[]>();
    app.addHook('onRoute', (route) => {
      const backend = route.config?.backend;
      if (!backend) return;
      for (const method of [route.method].flat()) routesOf.set(backend, [...(routesOf.get(backend) ?? []), `${method} ${route.url}`]);
    });

    app.get(
      '/healthz',
      {
        schema: {
          tags: ['operations'],
          security: [],
          summary: 'Liveness: the process serves HTTP',
          response: { 200: { description: 'Serving.', content: { 'application/json': { schema: { type: 'object', properties: { status: { type: 'string' } } }, example: { status: 'ok' } } } } },
        },
      },
      async () => ({ status: 'ok' }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          tags: ['operations'],
          security: [],
          summary: 'Readiness: which routes can be served, per backend',
          description:
            'A backend is `up` while one of its instances accepts a connection; its routes can then be served. ' +
            'Answers 200 while at least one route can be served (`status` is `ready` when all can, `degraded` when some cannot), ' +
            '503 `NOT_READY` when none can or the gateway is shutting down. With `?strict`, 503 unless every route can be served. ' +
            'A backend served by the built-in CPU stand-in is marked `reference: true`.',
          querystring: { type: 'object', properties: { strict: { type: 'string', description: 'Present: 503 unless every route can be served.' } } },
          response: {
            200: {
              description: 'At least one route can be served (every one, with `?strict`).',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      status: { type: 'string', enum: ['ready', 'degraded'] },
                      routes: { type: 'object', additionalProperties: { type: 'string', enum: ['up', 'down'] } },
                      backends: { type: 'object' },
                    },
                  },
                  example: EXAMPLE,
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
        const reports = await app.rpc.instances(PROBE_TIMEOUT_MS);
        const backends = {} as Record<BackendName, BackendReadiness>;
        const routes: Record<string, State> = {};
        for (const [name, instances] of Object.entries(reports) as Array<[BackendName, InstanceReport[]]>) {
          const state: State = instances.some((i) => i.state !== 'ejected') ? 'up' : 'down';
          const served = routesOf.get(name) ?? [];
          backends[name] = { state, ...(configured[name].reference ? { reference: true as const } : {}), routes: served, instances };
          for (const route of served) routes[route] = state;
        }
        const down = Object.entries(backends).filter(([, b]) => b.state === 'down').map(([name]) => name);
        const servable = Object.values(routes).filter((s) => s === 'up').length;
        const strict = (request.query as Record<string, unknown>).strict !== undefined;
        if (down.length === 0) return { status: 'ready', routes, backends };
        if (servable === 0 || strict) return notReady(`No reachable instance of: ${down.join(', ')}.`, { routes, backends });
        return { status: 'degraded', routes, backends };
      },
    );
  },
  { name: 'health', dependencies: ['rpc', 'drain'] },
);
