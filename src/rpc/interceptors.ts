import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import base from '../../gen/thrift/base_types.js';
import { activeTraceparent } from '../trace-context.js';
import { ApiError, type ErrorCode } from '../errors.js';
import { backendStatusError } from './backend-status.js';
import type { Interceptor } from './rpc-client.js';
import { backendText } from './backend-text.js';
import { RpcError, type RpcErrorKind } from './rpc-error.js';

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

const RPC_ERROR_CODES: Record<RpcErrorKind, ErrorCode> = {
  timeout: 'BACKEND_TIMEOUT',
  unavailable: 'BACKEND_UNAVAILABLE',
  'connection-lost': 'BACKEND_CONNECTION_LOST',
  protocol: 'BACKEND_PROTOCOL_ERROR',
  application: 'BACKEND_ERROR',
  overloaded: 'BACKEND_OVERLOADED',
  abandoned: 'CLIENT_CLOSED_REQUEST',
};

/**
 * Turns transport failures and non-zero `BaseResp.StatusCode` into catalogue errors. Wire
 * problems are described by the gateway's own words (safe to show); what the backend said
 * stays in `cause`, for the log.
 */
export const errorInterceptor: Interceptor = (next) => async (call) => {
  let response: { BaseResp?: { StatusCode?: number; StatusMessage?: string } };
  try {
    response = (await next(call)) as typeof response;
  } catch (err) {
    if (!(err instanceof RpcError)) throw err;
    const code = RPC_ERROR_CODES[err.kind];
    // The gateway's own diagnosis of a broken exchange (it may name a transport mismatch, or
    // the promise of the IDL a reply broke) helps the partner report it; it holds nothing the
    // backend said (see RpcError).
    const message = err.kind === 'protocol' || err.kind === 'connection-lost' ? `The ${call.backend} backend call failed: ${err.message}.` : undefined;
    const retryAfter = err.retryAfterMs === undefined ? {} : { headers: { 'retry-after': String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))) } };
    throw new ApiError(code, message, { cause: err, ...retryAfter });
  }
  const status = response.BaseResp?.StatusCode ?? 0;
  if (status !== 0) throw backendStatusError(call.backend, status, backendText(response.BaseResp?.StatusMessage ?? ''));
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
    const cause = err instanceof ApiError ? err.cause : err;
    const fields = { backend: call.backend, method: call.method, instance: call.instance, ms: performance.now() - started, err: cause };
    // No instance was tried (all ejected): the ejection was logged once already. A call given
    // up because its caller left is no fault of the backend's.
    if (cause instanceof RpcError && cause.kind === 'abandoned') call.ctx.log.info(fields, 'backend call abandoned');
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
 * so that the backend's spans hang under the call rather than beside it.
 */
export const traceInterceptor: Interceptor = (next) => (call) =>
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
        outcome = err instanceof ApiError ? err.code : err instanceof RpcError ? err.kind : 'error';
        span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
        throw err;
      } finally {
        span.setAttributes({ 'visiongate.outcome': outcome, 'visiongate.instance': call.instance ?? 'none' });
        span.end();
      }
    },
  );
