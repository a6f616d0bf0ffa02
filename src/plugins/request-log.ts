import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { bodyBytes, bytesOf } from '../limits/body.js';
import { ANONYMOUS } from '../partners/identity.js';
import { routeOf } from '../route-name.js';
import { STAGES, type Stage } from '../stage-clock.js';

const round = (ms: number) => Math.round(ms * 100) / 100;

function roundedStages(ms: Partial<Record<Stage, number>>): Partial<Record<Stage, number>> {
  const out: Partial<Record<Stage, number>> = {};
  for (const stage of STAGES) if (ms[stage] !== undefined) out[stage] = round(ms[stage]);
  return out;
}

/** Query parameters whose values are credentials, by name (case-insensitive; `x-api-key`, `sessionToken` too). */
const SECRET_PARAM = /key|token|sig|secret|passw|pwd|auth|credential|session|cookie/i;

/**
 * The URL as it may be logged: the value of any query parameter whose name says it is a
 * credential (`api_key`, `token`, `signature`, `password`, ...) is replaced. Partners do put
 * keys in URLs, and a log is read by more people than the keys are meant for.
 */
export function loggableUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const query = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // A malformed escape: judge the name as it is written.
      }
      return eq >= 0 && SECRET_PARAM.test(decoded) ? `${name}=[REDACTED]` : pair;
    });
  return `${url.slice(0, at)}?${query.join('&')}`;
}

/**
 * One log line per request, when it is answered (or abandoned by its client): log id (in every line, from the logger),
 * partner, route, status, bytes each way, time, and the time of each stage. Why it failed,
 * when it did, is in the same line. fastify's own two lines per request are turned off.
 */
export default fp(
  async (app) => {
    // One object literal per line, its absent fields undefined (pino leaves them out): the line
    // is written for every request, and the spreads and Object.fromEntries it was built with
    // made several objects per line that the logger read once.
    const line = (request: FastifyRequest, reply: FastifyReply, answered: boolean) => {
      const failure = answered ? request.failure : undefined;
      return {
        // A partner's id is already bound to its request's logger (see partners.ts).
        partner: request.partner === ANONYMOUS ? ANONYMOUS : undefined,
        // The client's address: behind a trusted proxy (TRUST_PROXY), the one it forwarded.
        client: request.ip,
        method: request.method,
        route: routeOf(request),
        url: loggableUrl(request.url),
        bytes_in: bodyBytes(request),
        stages: roundedStages(request.stages.ms),
        status: answered ? reply.statusCode : undefined,
        bytes_out: answered ? bytesOf(reply.getHeader('content-length')) : undefined,
        ms: round(reply.elapsedTime),
        code: failure?.code,
        message: failure?.message,
        cause: failure?.cause,
      };
    };
    app.addHook('onResponse', async (request, reply) => {
      request.log.info(line(request, reply, true), 'request completed');
    });
    // A request whose client leaves before the answer is never completed: this is its line.
    app.addHook('onRequest', async (request, reply) => {
      request.abandoned.addEventListener('abort', () => request.log.info(line(request, reply, false), 'request abandoned'), { once: true });
    });
  },
  { name: 'request-log', dependencies: ['stages', 'partners', 'error-handler', 'request-context'] },
);
