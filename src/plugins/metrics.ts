import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import cluster from 'node:cluster';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { clusterScrape } from '../cluster/metrics.js';
import { BACKEND_NAMES } from '../services/index.js';
import { INSTANCE_STATES } from '../rpc/instance-health.js';
import type { Interceptor, RpcClient } from '../rpc/rpc-client.js';
import { RpcError } from '../rpc/rpc-error.js';
import { errorCodeOf } from '../rpc-to-http.js';
import { bodyBytes, bytesOf } from '../limits/body.js';
import { routeOf } from '../route-name.js';
import { STAGES } from '../stage-clock.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: {
      registry: Registry;
      rpcInterceptor: Interceptor;
      ejected(backend: string, instance: string): void;
      /** Reads calls in flight per instance from the client, whenever Prometheus scrapes. */
      watch(rpc: RpcClient): void;
      /** A request refused by load shedding, and why. */
      shed(reason: string): void;
      /** Whether the Redis used for `use` (limits, usage, jobs) answers. */
      redisUp(use: string, up: boolean): void;
    };
  }
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const STAGE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];

/** What kind of failure a backend call ended in: how it broke on the wire, or the status the backend answered. */
function failureKind(err: unknown): string {
  if (!(err instanceof RpcError)) return 'other';
  if (err.kind === 'backend-status') return `status_${err.statusCode}`;
  return err.kind === 'unavailable' ? 'refused' : err.kind;
}

/**
 * Prometheus metrics at GET /metrics, or on METRICS_PORT alone: HTTP requests, latency and
 * bytes by route, status and partner; backend calls by backend and instance (latency, in
 * flight, failures by kind, ejections); each request's stages; Node's own process metrics.
 * A registry per app, so tests can build several.
 */
export default fp<{ metricsPort: number | undefined; metricsHost: string }>(
  async (app, { metricsPort, metricsHost }) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const registers = [registry];
    const httpLabels = ['method', 'route', 'status', 'partner'];
    const requests = new Counter({ name: 'visiongate_http_requests_total', help: 'HTTP requests answered, by route, status and partner', labelNames: httpLabels, registers });
    const duration = new Histogram({
      name: 'visiongate_http_request_duration_seconds',
      help: 'Time from request to answer, by route, status and partner',
      labelNames: httpLabels,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const bytesIn = new Counter({ name: 'visiongate_http_request_bytes_total', help: 'Request body bytes (Content-Length, or read of a chunked body), by route and partner', labelNames: ['route', 'partner'], registers });
    const bytesOut = new Counter({ name: 'visiongate_http_response_bytes_total', help: 'Response body bytes, by route and partner', labelNames: ['route', 'partner'], registers });
    const stages = new Histogram({
      name: 'visiongate_request_stage_seconds',
      help: `Time of each stage of a request (${STAGES.join(', ')}), by route`,
      labelNames: ['route', 'stage'],
      buckets: STAGE_BUCKETS,
      registers,
    });
    const calls = new Histogram({
      name: 'visiongate_backend_call_duration_seconds',
      help: 'Backend call time, by backend, method, instance and outcome (ok or an error code)',
      labelNames: ['backend', 'method', 'instance', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const failures = new Counter({
      name: 'visiongate_backend_errors_total',
      help: 'Failed backend calls by backend, instance and kind: timeout, refused, connection-lost, protocol, application, overloaded, or status_<BaseResp.StatusCode>',
      labelNames: ['backend', 'instance', 'kind'],
      registers,
    });
    const ejections = new Counter({
      name: 'visiongate_backend_ejections_total',
      help: 'Backend instances ejected after failing, by backend and instance',
      labelNames: ['backend', 'instance'],
      registers,
    });
    let watched: RpcClient | undefined;
    new Gauge({
      name: 'visiongate_backend_calls_in_flight',
      help: 'Backend calls in flight, by backend and instance',
      labelNames: ['backend', 'instance'],
      registers,
      collect() {
        this.reset();
        for (const { backend, instance, inFlight } of watched?.snapshot() ?? []) this.set({ backend, instance }, inFlight);
      },
    });
    // Counts, not one series per instance: an alert can say "every instance ejected" (up and
    // half-open at 0) without the backend's address clashing with Prometheus' own `instance`.
    // With WORKERS, each worker sees the same instances: the most any worker sees, not the sum.
    new Gauge({
      name: 'visiongate_backend_instances',
      help: 'Backend instances by backend and state: up, ejected (after failing), half-open (one trial call allowed)',
      labelNames: ['backend', 'state'],
      aggregator: 'max',
      registers,
      collect() {
        this.reset();
        for (const backend of BACKEND_NAMES) for (const state of INSTANCE_STATES) this.set({ backend, state }, 0);
        for (const { backend, state } of watched?.snapshot() ?? []) this.inc({ backend, state });
      },
    });
    const shed = new Counter({
      name: 'visiongate_load_shed_total',
      help: 'Requests refused with 503 GATEWAY_OVERLOADED, by reason: inflight_bytes, eventLoopDelay, heapUsedBytes',
      labelNames: ['reason'],
      registers,
    });
    // No series until a Redis is used: a gateway without one shows none, not a 0 that reads as "down".
    const redisUp = new Gauge({
      name: 'visiongate_redis_up',
      help: 'Whether the Redis of REDIS_URL answers (1) or not (0), by use: limits (which then fail open), usage (counts kept in memory meanwhile), jobs (their store)',
      labelNames: ['use'],
      // With WORKERS, 0 when any worker has lost it.
      aggregator: 'min',
      registers,
    });

    const rpcInterceptor: Interceptor = (next) => async (call) => {
      const end = calls.startTimer({ backend: call.backend, method: call.method });
      let outcome = 'ok';
      try {
        return await next(call);
      } catch (err) {
        outcome = errorCodeOf(err);
        failures.inc({ backend: call.backend, instance: call.instance ?? 'none', kind: failureKind(err) });
        throw err;
      } finally {
        end({ instance: call.instance ?? 'none', outcome });
      }
    };
    app.decorate('metrics', {
      registry,
      rpcInterceptor,
      ejected: (backend: string, instance: string) => ejections.inc({ backend, instance }),
      watch: (rpc: RpcClient) => (watched = rpc),
      shed: (reason: string) => shed.inc({ reason }),
      redisUp: (use: string, up: boolean) => redisUp.set({ use }, up ? 1 : 0),
    });

    const abandoned = new Counter({
      name: 'visiongate_requests_abandoned_total',
      help: 'Requests whose client closed its connection before the answer; their backend calls were given up. By route',
      labelNames: ['route'],
      registers,
    });
    app.addHook('onRequest', async (request) => {
      request.abandoned.addEventListener('abort', () => abandoned.inc({ route: routeOf(request) }), { once: true });
    });

    app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
      // Unmatched URLs share one label, so scanners cannot grow the label set.
      const route = routeOf(request);
      const labels = { method: request.method, route, status: reply.statusCode, partner: request.partner };
      requests.inc(labels);
      duration.observe(labels, reply.elapsedTime / 1000);
      bytesIn.inc({ route, partner: request.partner }, bodyBytes(request));
      bytesOut.inc({ route, partner: request.partner }, bytesOf(reply.getHeader('content-length')));
      for (const [stage, ms] of Object.entries(request.stages.ms)) stages.observe({ route, stage }, ms / 1000);
    });

    // A cluster worker answers for every worker (WORKERS > 1): the primary aggregates.
    const read = cluster.isWorker ? clusterScrape(registry) : () => registry.metrics();
    const scrape = async () => ({ type: registry.contentType, body: await read() });
    if (metricsPort === undefined) {
      app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
        const { type, body } = await scrape();
        return reply.type(type).send(body);
      });
      return;
    }
    // A listener of its own, so that the public port need not expose it.
    const server: Server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
        return;
      }
      scrape().then(
        ({ type, body }) => res.writeHead(200, { 'content-type': type }).end(body),
        () => res.writeHead(500).end(),
      );
    });
    app.addHook('onReady', async () => {
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(metricsPort, metricsHost, () => resolve()));
      const { address, port } = server.address() as AddressInfo;
      app.log.info(`Metrics listening at http://${address.includes(':') ? `[${address}]` : address}:${port}/metrics`);
    });
    app.addHook('onClose', async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
  },
  { name: 'metrics', dependencies: ['stages', 'partners', 'request-context'] },
);
