// The bare HTTP ceiling of `npm run bench`: a plain Fastify app, set up as the gateway is (same
// Node, same process model), whose routes read the same bodies and answer a fixed JSON without
// any RPC. Raw and multipart bodies go through Fastify's and @fastify/multipart's own readers;
// /json through Fastify's default JSON parser (with its prototype-poisoning scan) and Buffer's
// base64 decoder: what a plain Fastify JSON route costs; /json-from-bytes the same route with
// the gateway's JSON path instead (src/input/json-body.ts and base64.ts), to compare the two
// without any RPC. Prints its port on stdout.
import multipart from '@fastify/multipart';
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { decodeBase64 } from '../src/input/base64.js';
import { parseJsonBody, type RawString } from '../src/input/json-body.js';
import { readBody } from '../src/input/read-body.js';

const answer = readFileSync(process.env.FIXED_ANSWER_FILE!, 'utf8');
// Event-loop delay as the gateway's /metrics reports it (prom-client: resolution 10 ms, reset when read).
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const app = Fastify({ bodyLimit: 512 * 1024 * 1024 });
await app.register(multipart, { limits: { fileSize: 512 * 1024 * 1024 } });
app.addContentTypeParser(/^(image\/.*|application\/zip)$/, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

const fixed = (reply: { type(t: string): { send(b: string): unknown } }) => reply.type('application/json').send(answer);
app.post('/raw', async (request, reply) => {
  if (!Buffer.isBuffer(request.body)) throw new Error('no body');
  return fixed(reply);
});
app.post('/json', async (request, reply) => {
  const { image } = request.body as { image: string };
  if (Buffer.from(image, 'base64').length === 0) throw new Error('no image');
  return fixed(reply);
});
await app.register(async (scope) => {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', (_request, payload, done) => {
    readBody(payload, { exact: Number(_request.headers['content-length']), limit: 512 * 1024 * 1024 }).then(
      (body) => done(null, parseJsonBody(body, { rawStringBytes: 1024, maxDepth: 64, maxValues: 10_000 })),
      done,
    );
  });
  scope.post('/json-from-bytes', async (request, reply) => {
    const { image } = request.body as { image: RawString };
    if ((await decodeBase64(image, 'image')).length === 0) throw new Error('no image');
    return fixed(reply);
  });
});
app.post('/multipart', async (request, reply) => {
  const file = await request.file();
  if (!file || (await file.toBuffer()).length === 0) throw new Error('no file');
  return fixed(reply);
});
app.get('/loop', async () => {
  const figures = { p99_seconds: loop.percentile(99) / 1e9, max_seconds: loop.max / 1e9 };
  loop.reset();
  return figures;
});
await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`ceiling listening on port ${(app.server.address() as { port: number }).port}`);
