import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError, quoted, toProblem, type ErrorCode } from '../errors.js';
import { RpcError } from '../rpc/rpc-error.js';
import { apiErrorFromRpc } from '../rpc-to-http.js';

/**
 * The framework's errors a request can still meet. Every body parser is our own (body-parsers.ts):
 * fastify's JSON parser and its body reading, with their size, length and syntax errors, are
 * never used; an oversized file part is refused by our reader before busboy cuts it short.
 */
const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_PARTS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FILES_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FIELDS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  // @fastify/multipart's, for a field named after an Object.prototype member (`__proto__`).
  FST_PROTO_VIOLATION: 'INVALID_MULTIPART',
  // @fastify/multipart's, for a field sent as application/json that is not JSON (its status is 406).
  FST_INVALID_JSON_FIELD_ERROR: 'INVALID_MULTIPART',
};

/** Words for framework errors, since theirs ("Request body is too large") say too little. */
function frameworkMessage(code: ErrorCode, err: FastifyError, request: FastifyRequest): string | undefined {
  switch (code) {
    case 'PAYLOAD_TOO_LARGE':
      return `The multipart body exceeds a limit: ${err.message}.`;
    case 'INVALID_MULTIPART':
      return err.code === 'FST_INVALID_JSON_FIELD_ERROR' ? 'A multipart field sent as application/json is not valid JSON.' : undefined;
    case 'UNSUPPORTED_MEDIA_TYPE': {
      const given = request.headers['content-type'];
      const accepted = Object.keys((request.routeOptions.schema?.body as { content?: object } | undefined)?.content ?? {});
      return (
        (given ? `Content-Type ${quoted(given)} is not accepted here` : 'The body has no Content-Type') +
        (accepted.length > 0 ? `; send one of ${accepted.join(', ')} (see /docs).` : '; see /docs for the accepted forms.')
      );
    }
    default:
      return undefined;
  }
}

/** Busboy's own errors have no code; their words are safe and say what is wrong. */
const MULTIPART_MESSAGES = /^(Multipart: Boundary not found|Boundary required|Unexpected end of multipart data|\w+ terminated early due to unexpected end of multipart data)$/;

export function toApiError(err: unknown, request: FastifyRequest): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof RpcError) return apiErrorFromRpc(err);
  const e = err as FastifyError;
  const mapped = e.code ? FRAMEWORK_CODES[e.code] : undefined;
  if (mapped) return new ApiError(mapped, frameworkMessage(mapped, e, request), { cause: err });
  // Node's "aborted": the client closed its connection while its body was being read.
  if (e.code === 'ECONNRESET' && request.raw.destroyed) return new ApiError('CLIENT_CLOSED_REQUEST', undefined, { cause: err });
  if (typeof e.message === 'string' && MULTIPART_MESSAGES.test(e.message)) {
    return new ApiError('INVALID_MULTIPART', `The multipart body is malformed: ${e.message}.`, { cause: err });
  }
  if (e.statusCode === 413) return new ApiError('PAYLOAD_TOO_LARGE', undefined, { cause: err });
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new ApiError('BAD_REQUEST', undefined, { cause: err });
  return new ApiError('INTERNAL_ERROR', undefined, { cause: err });
}

/** A cause for the request's log line: with what a backend said, already cut and escaped (see RpcError). */
const causeText = (cause: Error) => (cause instanceof RpcError && cause.said ? `${cause.message}: ${cause.said}` : cause.message);

function sendProblem(request: FastifyRequest, reply: FastifyReply, err: ApiError): FastifyReply {
  // A body too slow to wait for is not drained either: its connection closes after the answer.
  // Nor is a body its client holds back until asked (Expect: 100-continue): it will not come.
  if (err.code === 'REQUEST_TIMEOUT' || request.awaitsInvitation) reply.header('connection', 'close');
  else if (!request.raw.complete) drainThenClose(request, reply);
  return reply.code(err.status).headers(err.headers).type('application/problem+json').send(toProblem(err, request.id));
}

/**
 * After a refusal (a 413 above all) the unread body is still on its way. Closing at once would
 * reset the connection under a client that is still writing (curl without Expect, Python's
 * urllib), and it would never read the answer; so answer at once, then read and discard the
 * rest for up to BODY_DRAIN_MS, as nginx's lingering close does, and close. The bound is time,
 * not bytes: 80 MB on a fast link is read in well under a second, while a slow client is cut
 * off (the body guard's rate and pause rules apply while draining too).
 */
function drainThenClose(request: FastifyRequest, reply: FastifyReply): void {
  const req = request.raw;
  // fastify asks for `Connection: close` after a body parser error, and Node closes right after
  // the answer to a `Connection: close` request; both would reset the writer. Keep the socket
  // open until the body is read, and close it here.
  reply.removeHeader('connection');
  reply.raw.shouldKeepAlive = true;
  // HTTP/1.0 closes after the answer unless the client asked to keep the connection.
  const connection = req.headers.connection ?? '';
  const clientCloses = /\bclose\b/i.test(connection) || (req.httpVersion === '1.0' && !/\bkeep-alive\b/i.test(connection));
  const timer = setTimeout(() => req.socket.destroy(), request.server.bodyDrainMs).unref();
  // A form given up mid-way is still piped into its parser, which waits for a reader of the part
  // it holds and so holds the body back: the drain would never end, and the next request on
  // the connection was never read (it reset after BODY_DRAIN_MS).
  req.unpipe();
  req.on('data', () => {});
  req.once('end', () => {
    clearTimeout(timer);
    if (clientCloses) req.socket.end();
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

declare module 'fastify' {
  interface FastifyInstance {
    /** How long the rest of a refused body is read and dropped (BODY_DRAIN_MS). */
    bodyDrainMs: number;
    /** The answer to a request no route takes: 405 with `Allow` when another method would do, else 404. */
    routeMissing(request: FastifyRequest): ApiError;
  }
  interface FastifyRequest {
    /** Why the request failed, for its log line. */
    failure?: { code: ErrorCode; message: string; cause?: string };
  }
}

export default fp<{ drainMs: number }>(
  async (app, { drainMs }) => {
    app.decorate('bodyDrainMs', drainMs);
    app.decorateRequest('failure', undefined);
    app.setErrorHandler((err, request, reply) => {
      const apiError = toApiError(err, request);
      // A partner's mistake, or load shed on purpose (the answers with Retry-After), is told in
      // the request's one log line; a failure on our side or a backend's also gets a line of
      // its own with its cause and stack.
      const cause = apiError.cause instanceof Error ? apiError.cause : undefined;
      request.failure = { code: apiError.code, message: apiError.message, ...(cause ? { cause: causeText(cause) } : {}) };
      if (apiError.status >= 500 && !apiError.headers['retry-after']) request.log.error({ code: apiError.code, err: cause ?? apiError }, apiError.message);
      return sendProblem(request, reply, apiError);
    });

    app.decorate('routeMissing', (request: FastifyRequest) => {
      const path = request.url.split('?')[0]!;
      const allowed = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'].filter((method) => app.hasRoute({ method, url: path }));
      return allowed.length > 0
        ? new ApiError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}.`, { headers: { allow: allowed.join(', ') } })
        : new ApiError('NOT_FOUND', `No route ${request.method} ${path}; see /docs.`);
    });
    app.setNotFoundHandler((request, reply) => sendProblem(request, reply, app.routeMissing(request)));
  },
  { name: 'error-handler' },
);
