import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import type { Config } from './config/schema.js';
import type { Tracing } from './tracing.js';
import { ApiError, toProblem } from './errors.js';
import jobs from './jobs/plugin.js';
import { logIdFor, newLogId } from './logid.js';
import type { KeyRing } from './partners/api-keys.js';
import { bodyLimits } from './limits/body.js';
import bodyGuard from './plugins/body-guard.js';
import bodyParsers from './plugins/body-parsers.js';
import clientAddress from './plugins/client-address.js';
import cors from './plugins/cors.js';
import docs from './plugins/docs.js';
import drain from './plugins/drain.js';
import errorHandler from './plugins/error-handler.js';
import loadShedding from './plugins/load-shedding.js';
import metrics from './plugins/metrics.js';
import partners from './plugins/partners.js';
import rateLimits from './plugins/rate-limits.js';
import requestLog from './plugins/request-log.js';
import stages from './plugins/stages.js';
import requestContext from './plugins/request-context.js';
import rpc from './plugins/rpc.js';
import tracing from './plugins/tracing.js';
import usage from './plugins/usage.js';
import health from './routes/health.js';
import usageRoute from './routes/usage.js';
import { SERVICES } from './services/index.js';

export interface AppOptions {
  /** Accepted API keys (config/load.ts `loadKeys`); undefined: keys are not asked for. */
  keys?: KeyRing | undefined;
  /** Document the API keys in OpenAPI even where none are set (the committed document describes the production gateway). */
  documentKeys?: boolean;
  /** A pino destination for the logs (tests capture them); stdout by default. */
  logStream?: NodeJS.WritableStream;
  /** OpenTelemetry, when started (src/tracing.ts); undefined: no traces. */
  tracing?: Tracing | undefined;
}

/** The answer to HTTP that Node refused before it became a request. */
function clientError(err: NodeJS.ErrnoException): ApiError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError('HEADERS_TOO_LARGE');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError('REQUEST_TIMEOUT', 'The request did not arrive in time; the connection is closed.');
    case 'HPE_INVALID_METHOD':
      return new ApiError('METHOD_NOT_IMPLEMENTED', 'The request method is not one the gateway knows.');
    default:
      return new ApiError('BAD_REQUEST', 'The HTTP request is malformed.');
  }
}

/** A problem written straight to a socket, then closed: only while no answer has begun on it. */
function answerRaw(socket: Socket, err: ApiError): void {
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const problem = toProblem(err, newLogId());
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: application/problem+json\r\n` +
      `X-Tt-Logid: ${problem.logid}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * The router's own refusals (a malformed percent-escape, a path parameter past 100
 * characters) come before any hook has run: answered here in the contract's form, with the log
 * id and without echoing the URL, instead of fastify's own JSON.
 */
function routerError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const apiError =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new ApiError('NOT_FOUND', 'No route has a path segment this long; see /docs.')
      : new ApiError('BAD_REQUEST', 'The URL is malformed: it has an invalid percent-escape.');
  request.log.info({ code: apiError.code, cause: err.code, method: request.method }, 'request refused by the router');
  const body = JSON.stringify(toProblem(apiError, request.id));
  reply.raw.writeHead(apiError.status, { 'content-type': 'application/problem+json', 'x-tt-logid': request.id, 'content-length': Buffer.byteLength(body) });
  reply.raw.end(body);
}

/** Builds the gateway; `server.ts` only starts it. */
export async function buildApp(config: Config, opts: AppOptions = {}): Promise<FastifyInstance> {
  const limits = bodyLimits(config.maxImageBytes);
  const { trustProxy } = config;
  // Loaded before the docs plugin reads the named schemas, which loading the routes names.
  const serviceRoutes = await Promise.all(SERVICES.map(async (service) => (await service.routes()).default));
  const app = Fastify({
    logger: {
      level: config.logLevel,
      // Readable lines for a person at a terminal; JSON lines for everything else.
      ...(opts.logStream ? { stream: opts.logStream } : process.stdout.isTTY ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
    },
    genReqId: logIdFor,
    logController: new LogController({ requestIdLogLabel: 'logid', disableRequestLogging: true }),
    requestIdHeader: false,
    return503OnClosing: false,
    // Only the proxies named in TRUST_PROXY are believed about the client's address (request.ip).
    // A hop count is given as a function: fastify now reads a bare number as "trust nothing".
    trustProxy: typeof trustProxy === 'number' ? (_address: string, hop: number) => hop < trustProxy : (trustProxy ?? false),
    keepAliveTimeout: config.keepAliveTimeoutMs,
    // Malformed HTTP never reaches a route: answer it in the contract's form all the same.
    clientErrorHandler: (err, socket) => answerRaw(socket, clientError(err as NodeJS.ErrnoException)),
    frameworkErrors: routerError,
  });
  // `Expect: 100-continue` is answered when the body is about to be read (body-parsers.ts), not
  // by Node on arrival: a body refused from its headers (404, 405, 415, 413, 401, 429) is never invited.
  // Other expectations are ignored (RFC 9110 allows it) rather than given Node's bare 417.
  for (const event of ['checkContinue', 'checkExpectation']) app.server.on(event, (req, res) => app.server.emit('request', req, res));
  // CONNECT is not for an origin server; without a listener Node drops the connection unanswered.
  app.server.on('connect', (_req, socket: Socket) => answerRaw(socket, new ApiError('METHOD_NOT_IMPLEMENTED', 'CONNECT is not implemented: the gateway is not a proxy.')));
  // Validation is done once per route, by its zod schemas, for every input form; the JSON
  // Schemas on routes document them (OpenAPI) and are not compiled a second time.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  // A plugin that fails to start (a Redis that may evict jobs, an unreachable bucket) must not
  // leave the ones before it running: their connections and timers would keep the process up.
  try {
    // Traces first, so that every later hook and route runs inside the request's span.
    await app.register(tracing, { tracing: opts.tracing });
    // First, so that every later hook (keys, limits, logs) sees the client's address.
    await app.register(clientAddress, { trusted: config.trustProxy !== undefined });
    await app.register(stages);
    await app.register(requestContext);
    await app.register(cors, { origins: config.corsOrigins });
    await app.register(partners, { keys: opts.keys });
    await app.register(drain);
    await app.register(errorHandler, { drainMs: config.body.drainMs });
    await app.register(metrics, { metricsPort: config.metricsPort, metricsHost: config.host });
    await app.register(loadShedding, { config });
    // Every body is watched, also one refused for its size: its drain is bounded by the same rules.
    await app.register(bodyGuard, { timing: config.body });
    await app.register(bodyParsers, { limits, maxInflightBytes: config.maxInflightBytes });
    await app.register(requestLog);
    await app.register(rateLimits, { config, keys: opts.keys });
    await app.register(rpc, { config, tracing: opts.tracing !== undefined });
    await app.register(usage, { config });
    await app.register(docs, { security: opts.keys !== undefined || opts.documentKeys === true });
    await app.register(health, { backends: config.backends });
    await app.register(jobs, { config, keys: opts.keys });
    for (const routes of serviceRoutes) await app.register(routes, { config });
    await app.register(usageRoute);
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  return app;
}
