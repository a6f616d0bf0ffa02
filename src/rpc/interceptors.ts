import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import base from '../../gen/thrift/base_types.js';
import { activeTraceparent } from '../trace-context.js';
import { backendStatusError } from './backend-status.js';
import type { Interceptor } from './rpc-client.js';
import { RpcError } from './rpc-error.js';

/** Fills field 255 of every request: the log id, who calls, for whom, and the trace context. */
export function baseInterceptor(caller: string): Interceptor {
  return (next) => (call) => {
    const { ctx } = call;
    call.request.Base = new base.Base({
      LogID: ctx.logid,
      Caller: caller,
      Addr: ctx.clientAddr,
      Client: ctx.partner ?? '',
      ...(ctx.traceparent ? { Extra: { traceparent: ctx.traceparent } } : {}),
    });
    return next(call);
  };
}

/**
 * Makes a non-zero `BaseResp.StatusCode` an RpcError too, and names the backend on every
 * RpcError, so that everything outside sees one kind of failure. Nothing here knows HTTP: the
 * edge (`src/rpc-to-http.ts`) maps an RpcError to the catalogue.
 */
export const errorInterceptor: Interceptor = (next) => async (call) => {
  let response: unknown;
  try {
    response = await next(call);
  } catch (err) {
    if (err instanceof RpcError) err.backend ??= call.backend;
    throw err;
  }
  const failed = backendStatusError(call.backend, response);
  if (failed) throw failed;
  return response;
};

/** One debug line per call with its duration and instance; failures at warn with their cause. */
export const loggingInterceptor: Interceptor = (next) => async (call) => {
  const started = performance.now();
  try {
    const response = await next(call);
    call.ctx.log.debug({ backend: call.backend, method: call.method, instance: call.instance, ms: performance.now() - started }, 'backend call');
    return response;
  } catch (err) {
    const fields = { backend: call.backend, method: call.method, instance: call.instance, ms: performance.now() - started, err };
    // No instance was tried (all ejected): the ejection was logged once already. A call given
    // up because its caller left is no fault of the backend's.
    if (err instanceof RpcError && err.kind === 'abandoned') call.ctx.log.info(fields, 'backend call abandoned');
    else if (call.instance) call.ctx.log.warn(fields, 'backend call failed');
    else call.ctx.log.debug(fields, 'backend call refused without trying');
    throw err;
  }
};

/** Marks the request's rpc stage, and the encode stage after it. */
export const stageInterceptor: Interceptor = (next) => async (call) => {
  call.ctx.stage?.('rpc');
  try {
    return await next(call);
  } finally {
    call.ctx.stage?.('encode');
  }
};

/** Tells the request how many images a successful call processed: the IDL's `image` or `images`. */
export const imagesInterceptor: Interceptor = (next) => async (call) => {
  const res = await next(call);
  const { image, images } = call.request as { image?: unknown; images?: unknown[] };
  call.ctx.processed?.(Array.isArray(images) ? images.length : image ? 1 : 0);
  return res;
};

/**
 * With tracing on: a client span per backend call (backend, method, instance, outcome), whose
 * own `traceparent` is what `Base.Extra` carries (this interceptor sits before `baseInterceptor`),
 * so that the backend's spans hang under the call rather than beside it. The outcome is `ok` or
 * what `outcomeOf` names a failure (the edge passes the catalogue code it will be answered with).
 */
export const traceInterceptor =
  (outcomeOf: (err: unknown) => string): Interceptor =>
  (next) =>
  (call) =>
    trace.getTracer('visiongate').startActiveSpan(
      `${call.backend} ${call.method}`,
      { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'apache_thrift', 'rpc.service': call.backend, 'rpc.method': call.method } },
      async (span) => {
        const traceparent = activeTraceparent();
        if (traceparent) call.ctx = { ...call.ctx, traceparent };
        let outcome = 'ok';
        try {
          return await next(call);
        } catch (err) {
          outcome = outcomeOf(err);
          span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
          throw err;
        } finally {
          span.setAttributes({ 'visiongate.outcome': outcome, 'visiongate.instance': call.instance ?? 'none' });
          span.end();
        }
      },
    );
