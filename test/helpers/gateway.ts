import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { z } from 'zod';
import { loadConfig, loadKeys } from '../../src/config/load.js';
import { Problem as ProblemSchema } from '../../src/schemas/problem.js';

export interface TestGateway {
  app: FastifyInstance;
  url: string;
  port: number;
  /** Every log line the gateway wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** The real app on a free loopback port, configured from `env` as the process would be. */
export async function startGateway(env: Record<string, string>): Promise<TestGateway> {
  const logs: Array<Record<string, unknown>> = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  // Shedding on event-loop delay is off unless a test asks for it: on a loaded machine a
  // starved test process sees seconds of delay and would refuse the requests under test.
  // Usage is written to a folder of the test's own, not the checkout's.
  const config = loadConfig({ LOG_LEVEL: 'debug', MAX_EVENT_LOOP_DELAY_MS: '0', USAGE_DIR: mkdtempSync(join(tmpdir(), 'vg-usage-')), ...env });
  const app = await buildApp(config, { logStream, keys: loadKeys(config) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, port, logs, close: () => app.close() };
}

export type Problem = z.output<typeof ProblemSchema>;

/**
 * The answer has this status, is JSON and is exactly what `schema` (the one the OpenAPI
 * document names) describes: parsing it must succeed and drop nothing, so a member the
 * document does not name fails too.
 */
export async function expectAnswer<T extends z.ZodType>(res: Response, schema: T, status = 200): Promise<z.output<T>> {
  const raw: unknown = await res.json();
  assert.equal(res.status, status, JSON.stringify(raw));
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const parsed = schema.safeParse(raw);
  assert.ok(parsed.success, `the answer is not what the OpenAPI document says: ${parsed.error?.message}`);
  assert.deepEqual(parsed.data, raw, 'the answer holds members the OpenAPI document does not name');
  return parsed.data;
}

/** The answer is problem+json as the Problem schema describes it, for its own status, with the log id of its header. */
export async function problemOf(res: Response): Promise<Problem> {
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = ProblemSchema.parse(await res.json());
  assert.equal(body.status, res.status);
  assert.ok(body.title.length > 0);
  assert.equal(body.logid, res.headers.get('x-tt-logid'));
  return body;
}

/** The answer is the catalogue's problem+json with this status and code, and the log id of its header. */
export async function expectProblem(res: Response, status: number, code: string): Promise<Problem> {
  assert.equal(res.status, status);
  const body = await problemOf(res);
  assert.equal(body.code, code);
  return body;
}

/** One answer of a load run: a 200, checked as expectAnswer checks it, or else a problem, checked by problemOf. */
export async function answerOrProblem<T extends z.ZodType>(res: Response, schema: T): Promise<{ status: number; answer?: z.output<T>; problem?: Problem }> {
  if (res.status === 200) return { status: 200, answer: await expectAnswer(res, schema) };
  return { status: res.status, problem: await problemOf(res) };
}

/** `send` is refused with this problem (and message), and `backend` got no call from it. */
export async function refusedBeforeBackend(
  backend: { requests: unknown[] },
  send: () => Promise<Response>,
  status: number,
  code: string,
  message?: RegExp,
): Promise<void> {
  const calls = backend.requests.length;
  const problem = await expectProblem(await send(), status, code);
  if (message) assert.match(problem.message, message);
  assert.equal(backend.requests.length, calls, 'no backend call');
}
