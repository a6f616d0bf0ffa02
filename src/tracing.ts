// OpenTelemetry traces, configured by OTEL_* variables as the specification says, and off
// unless an OTLP endpoint is set. The SDK (exporter from OTEL_EXPORTER_OTLP_PROTOCOL, sampler
// from OTEL_TRACES_SAMPLER, service name from OTEL_SERVICE_NAME) and @fastify/otel (a span per
// request, its incoming `traceparent` as the parent) do the work; the gateway adds a client
// span per backend call (src/rpc/interceptors.ts) and its own attributes (plugins/tracing.ts).
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { NodeSDK } from '@opentelemetry/sdk-node';

export interface Tracing {
  instrumentation: FastifyOtelInstrumentation;
  /** Exports what is left and stops. */
  shutdown(): Promise<void>;
}

export const tracingConfigured = (env: NodeJS.ProcessEnv = process.env) =>
  Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) && env.OTEL_SDK_DISABLED !== 'true';

/** Starts the SDK when an OTLP endpoint is configured; undefined otherwise. */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (!tracingConfigured(env)) return undefined;
  // Traces only: metrics are Prometheus's (GET /metrics) and logs are stdout's, so the SDK's
  // own metric and log exporters stay off unless asked for by name.
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  const instrumentation = new FastifyOtelInstrumentation();
  const sdk = new NodeSDK({ instrumentations: [instrumentation], ...(env.OTEL_SERVICE_NAME ? {} : { serviceName }) });
  sdk.start();
  return { instrumentation, shutdown: () => sdk.shutdown() };
}
