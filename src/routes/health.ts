import type { FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import type { BackendConfig } from '../config/schema.js';
import { ApiError, toProblem } from '../errors.js';
import type { InstanceReport } from '../rpc/backend.js';
import type { BackendName } from '../services/index.js';
import { Liveness, Readiness } from '../schemas/health.js';
import { ref } from '../schemas/json-schema.js';
import { problemResponses } from '../schemas/problem.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The backend a route calls: readiness reports the route as servable while it has an instance up. */
    backend?: BackendName;
  }
}

const PROBE_TIMEOUT_MS = 1000;

type State = Readiness['routes'][string];
type BackendReadiness = Readiness['backends'][string];

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
          operationId: 'getLiveness',
          summary: 'Liveness: the process serves HTTP',
          response: { 200: { description: 'Serving.', content: { 'application/json': { schema: ref(Liveness) } } }, ...problemResponses(['HEADERS_TOO_LARGE']) },
        },
      },
      async (): Promise<Liveness> => ({ status: 'ok' }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          tags: ['operations'],
          security: [],
          operationId: 'getReadiness',
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
              content: { 'application/json': { schema: ref(Readiness) } },
            },
            ...problemResponses(['HEADERS_TOO_LARGE', 'NOT_READY']),
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
