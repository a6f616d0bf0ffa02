import fp from 'fastify-plugin';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ApiError } from '../errors.js';
import type { Interceptor } from '../rpc/rpc-client.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: { registry: Registry; rpcInterceptor: Interceptor; ejected(backend: string, instance: string): void };
  }
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Prometheus metrics at GET /metrics; a registry per app, so tests can build several. */
export default fp(
  async (app) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const requests = new Counter({
      name: 'visiongate_http_requests_total',
      help: 'HTTP requests answered, by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    const duration = new Histogram({
      name: 'visiongate_http_request_duration_seconds',
      help: 'Time from request to answer, by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    const calls = new Histogram({
      name: 'visiongate_backend_call_duration_seconds',
      help: 'Backend call time, by backend, method, instance and outcome (ok or an error code)',
      labelNames: ['backend', 'method', 'instance', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });

    const ejections = new Counter({
      name: 'visiongate_backend_ejections_total',
      help: 'Backend instances ejected after failing, by backend and instance',
      labelNames: ['backend', 'instance'],
      registers: [registry],
    });

    const rpcInterceptor: Interceptor = (next) => async (call) => {
      const end = calls.startTimer({ backend: call.backend, method: call.method });
      let outcome = 'ok';
      try {
        return await next(call);
      } catch (err) {
        outcome = err instanceof ApiError ? err.code : 'INTERNAL_ERROR';
        throw err;
      } finally {
        end({ instance: call.instance ?? 'none', outcome });
      }
    };
    app.decorate('metrics', { registry, rpcInterceptor, ejected: (backend: string, instance: string) => ejections.inc({ backend, instance }) });

    app.addHook('onResponse', async (request, reply) => {
      // Unmatched URLs share one label, so scanners cannot grow the label set.
      const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: reply.statusCode };
      requests.inc(labels);
      duration.observe(labels, reply.elapsedTime / 1000);
    });

    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'metrics' },
);
