// W3C trace context from OpenTelemetry's API alone (no SDK): without a started SDK the API is
// a no-op, and these answer undefined.
import { context, propagation, ROOT_CONTEXT, trace, type SpanContext } from '@opentelemetry/api';

/** The `traceparent` of the span active now, when tracing is on. */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** The span a `traceparent` names, to link to; undefined when tracing is off or it is not valid. */
export function spanContextOf(traceparent: string): SpanContext | undefined {
  return trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent }));
}
