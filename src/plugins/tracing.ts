import fp from 'fastify-plugin';
import type { Tracing } from '../tracing.js';

/**
 * With tracing on: @fastify/otel's span for every request, which gets the log id, the partner
 * and each stage's time (as events); every log line of a traced request gets `trace_id` and
 * `span_id`. Registered first, so that every later hook and route is inside the span.
 */
export default fp<{ tracing: Tracing | undefined }>(
  async (app, { tracing }) => {
    if (!tracing) return;
    await app.register(tracing.instrumentation.plugin());
    app.addHook('onRequest', async (request) => {
      const otel = request.opentelemetry();
      if (!otel.instrumented || !otel.span) return;
      const { traceId, spanId } = otel.span.spanContext();
      request.log = request.log.child({ trace_id: traceId, span_id: spanId });
      otel.span.setAttribute('visiongate.logid', request.id);
    });
    // onSend, not onResponse: the request span ends in @fastify/otel's own onResponse.
    app.addHook('onSend', async (request) => {
      const otel = request.opentelemetry();
      if (!otel.instrumented || !otel.span) return;
      otel.span.setAttribute('visiongate.partner', request.partner);
      for (const [stage, ms] of Object.entries(request.stages.ms)) otel.span.addEvent(`stage ${stage}`, { 'visiongate.stage': stage, 'visiongate.duration_ms': ms });
    });
  },
  { name: 'tracing' },
);
