import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { hashKey } from '../../src/partners/api-keys.js';
import { Job } from '../../src/schemas/jobs.js';
import { UsageAnswer } from '../../src/schemas/usage.js';
import { fakeArscan, fakeImage3d, fakeKeypoint, ok } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import { expectAnswer, expectProblem, startGateway, type TestGateway } from '../helpers/gateway.js';
import { gatedImage3d, waitForStatus } from '../helpers/jobs.js';
import { startServerProcess } from '../helpers/server-process.js';
import { startRedis } from '../helpers/services.js';
import { requireTool } from '../helpers/tools.js';

const coffee = fixture('coffee.png');
const ACME = 'vg_acme_usage_test_key';
const BETA = 'vg_beta_usage_test_key';
const API_KEYS = `acme=${hashKey(ACME)},beta=${hashKey(BETA)}`;
const today = () => new Date().toISOString().slice(0, 10);
const run = promisify(execFile);

/** `npm run usage` as an operator runs it, configured by `env`. */
async function exported(env: Record<string, string>, format: 'csv' | 'json'): Promise<string> {
  const { stdout } = await run('npm', ['run', '--silent', 'usage', '--', '--from', today(), '--to', today(), '--format', format], { env: { ...process.env, ...env } });
  return stdout;
}

interface Sent {
  status: number;
  bytesIn: number;
  bytesOut: number;
}

/** A keypoints call as a partner; what it sent and got, as usage should count it. */
async function keypoints(gw: TestGateway, key: string, query = ''): Promise<Sent> {
  const res = await fetch(`${gw.url}/v1/keypoints${query}`, { method: 'POST', headers: { 'content-type': 'image/png', 'x-api-key': key }, body: coffee });
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(Number(res.headers.get('content-length')), body.length);
  return { status: res.status, bytesIn: coffee.length, bytesOut: body.length };
}

async function usageOf(gw: TestGateway, key: string): Promise<UsageAnswer> {
  return expectAnswer(await fetch(`${gw.url}/v1/usage?from=${today()}&to=${today()}`, { headers: { 'x-api-key': key } }), UsageAnswer);
}

/** What usage must say for these calls on one route. */
function expected(sent: Sent[]) {
  const ok = sent.filter((s) => s.status < 400);
  return {
    requests: sent.length,
    succeeded: ok.length,
    client_errors: sent.filter((s) => s.status >= 400 && s.status < 500).length,
    server_errors: sent.filter((s) => s.status >= 500).length,
    bytes_in: sent.reduce((n, s) => n + s.bytesIn, 0),
    bytes_out: sent.reduce((n, s) => n + s.bytesOut, 0),
    images: ok.length,
    jobs: 0,
  };
}

const withoutBackendMs = (counts: Record<string, number> | undefined) => {
  const { backend_ms: _, ...rest } = counts ?? {};
  return rest;
};

/** Reads until the figures arrive (other replicas write theirs once a second), or fails with the last. */
async function eventually(read: () => Promise<UsageAnswer>, want: object): Promise<UsageAnswer> {
  let last: UsageAnswer | undefined;
  for (let i = 0; i < 60; i++) {
    last = await read();
    const got = withoutBackendMs(last.days[0]?.routes['/v1/keypoints']);
    if (JSON.stringify(got) === JSON.stringify(want)) return last;
    await sleep(250);
  }
  assert.deepEqual(withoutBackendMs(last?.days[0]?.routes['/v1/keypoints']), want);
  return last!;
}

test('usage counts what each partner was served, and a partner sees only its own', async (t) => {
  const backend = await fakeKeypoint(() => ok());
  t.after(() => backend.close());
  const gw = await startGateway({ KEYPOINT_BACKENDS: backend.address, API_KEYS });
  t.after(() => gw.close());

  const acme = [await keypoints(gw, ACME), await keypoints(gw, ACME), await keypoints(gw, ACME), await keypoints(gw, ACME, '?max_faces=99')];
  const beta = [await keypoints(gw, BETA), await keypoints(gw, BETA)];
  assert.deepEqual(acme.map((s) => s.status), [200, 200, 200, 400]);

  const mine = await usageOf(gw, ACME);
  assert.equal(mine.partner, 'acme');
  assert.deepEqual(Object.keys(mine.days[0]!.routes), ['/v1/keypoints'], 'reading usage is not itself counted');
  assert.deepEqual(withoutBackendMs(mine.days[0]!.routes['/v1/keypoints']), expected(acme));
  assert.ok(mine.days[0]!.routes['/v1/keypoints']!.backend_ms >= 0);
  assert.deepEqual(withoutBackendMs((await usageOf(gw, BETA)).days[0]!.routes['/v1/keypoints']), expected(beta));
});

test('usage: a chunked upload (no Content-Length) counts the bytes sent, not 0', async (t) => {
  const backend = await fakeKeypoint(() => ok());
  t.after(() => backend.close());
  const gw = await startGateway({ KEYPOINT_BACKENDS: backend.address, API_KEYS });
  t.after(() => gw.close());
  const json = Buffer.from(JSON.stringify({ image: coffee.toString('base64') }));
  const sent: Sent[] = [];
  for (const [type, body] of [['image/png', coffee], ['application/json', json]] as const) {
    // A stream body: fetch sends it chunked, in the three pieces given.
    const third = Math.ceil(body.length / 3);
    const pieces = [body.subarray(0, third), body.subarray(third, 2 * third), body.subarray(2 * third)];
    const stream = new ReadableStream<Uint8Array>({ pull: (c) => void (pieces.length ? c.enqueue(pieces.shift()!) : c.close()) });
    const res = await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': type, 'x-api-key': ACME }, body: stream, duplex: 'half' } as RequestInit);
    sent.push({ status: res.status, bytesIn: body.length, bytesOut: (await res.arrayBuffer()).byteLength });
  }
  assert.deepEqual(sent.map((s) => s.status), [200, 200]);
  assert.deepEqual(withoutBackendMs((await usageOf(gw, ACME)).days[0]!.routes['/v1/keypoints']), expected(sent));
});

test('usage: a job\'s backend time and images count for the partner that submitted it, on its route, though it ran after the request', async (t) => {
  const backend = await gatedImage3d();
  t.after(() => backend.close());
  const gw = await startGateway({ IMAGE3D_BACKENDS: backend.address, API_KEYS, JOB_STORE_DIR: mkdtempSync(join(tmpdir(), 'vg-usage-jobs-')) });
  t.after(() => gw.close());
  const res = await fetch(`${gw.url}/v1/image3d/videos`, { method: 'POST', headers: { 'content-type': 'image/png', 'x-api-key': ACME, prefer: 'respond-async' }, body: coffee });
  const job = await expectAnswer(res, Job, 202);
  // The call is held at the backend for at least HELD_MS: the run's backend time is no less.
  const HELD_MS = 500;
  await backend.arrived(1);
  await sleep(HELD_MS);
  backend.release();
  await waitForStatus(gw.url, job.id, ['succeeded'], { 'x-api-key': ACME });
  const route = (await usageOf(gw, ACME)).days[0]!.routes['/v1/image3d/videos']!;
  assert.deepEqual({ requests: route.requests, succeeded: route.succeeded, jobs: route.jobs, images: route.images }, { requests: 1, succeeded: 1, jobs: 1, images: 1 });
  assert.ok(route.backend_ms >= HELD_MS, `backend_ms ${route.backend_ms} < ${HELD_MS}`);
  assert.deepEqual((await usageOf(gw, BETA)).days[0]!.routes, {}, 'another partner is not charged');
});

test('usage: a range must run forwards and span at most 366 days, and a range of centuries is refused at once', async (t) => {
  const gw = await startGateway({ API_KEYS });
  t.after(() => gw.close());
  const ask = (query: string) => fetch(`${gw.url}/v1/usage?${query}`, { headers: { 'x-api-key': ACME } });
  await expectProblem(await ask('from=2026-11-28&to=2026-11-27'), 400, 'INVALID_ARGUMENT');
  await expectProblem(await ask('from=0001-01-01&to=9999-12-31'), 400, 'INVALID_ARGUMENT');
  await expectProblem(await ask('from=2026-02-30'), 400, 'INVALID_ARGUMENT');
  await expectProblem(await ask('from=yesterday'), 400, 'INVALID_ARGUMENT');
  const year = await ask('from=2025-01-01&to=2025-12-31');
  assert.equal((await expectAnswer(year, UsageAnswer)).days.length, 365);
  await expectProblem(await fetch(`${gw.url}/v1/usage`), 401, 'UNAUTHENTICATED');
});

test('usage: a query parameter given twice is refused as on the other routes (it was "from" Invalid input: expected string, received array)', async (t) => {
  const gw = await startGateway({ API_KEYS });
  t.after(() => gw.close());
  const res = await fetch(`${gw.url}/v1/usage?from=2026-11-28&from=2026-11-28`, { headers: { 'x-api-key': ACME } });
  assert.match((await expectProblem(res, 400, 'INVALID_ARGUMENT')).message, /^Query parameter "from" is given more than once\.$/);
});

test('usage through two replicas sharing Redis: every figure of a known mix from two partners', { skip: requireTool('redis-server', 'redis-server') }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const backend = await fakeKeypoint(() => ok());
  t.after(() => backend.close());
  const env = { KEYPOINT_BACKENDS: backend.address, API_KEYS, REDIS_URL: redis.url, USAGE_FLUSH_MS: '200' };
  const one = await startGateway(env);
  const two = await startGateway(env);
  t.after(() => Promise.all([one.close(), two.close()]));

  const acme = [await keypoints(one, ACME), await keypoints(two, ACME), await keypoints(two, ACME, '?bogus=1'), await keypoints(one, ACME)];
  const beta = [await keypoints(two, BETA), await keypoints(two, BETA), await keypoints(one, BETA)];
  // Each replica answers with both replicas' counts.
  await eventually(() => usageOf(one, ACME), expected(acme));
  await eventually(() => usageOf(two, BETA), expected(beta));
  await eventually(() => usageOf(one, BETA), expected(beta));

  // The operator's export holds the same figures, one row per partner, day and route.
  const csv = (await exported({ REDIS_URL: redis.url }, 'csv')).trim().split('\n');
  assert.equal(csv[0], 'date,partner,route,requests,succeeded,client_errors,server_errors,bytes_in,bytes_out,images,backend_ms,jobs');
  const row = (partner: string) => csv.find((line) => line.startsWith(`${today()},${partner},/v1/keypoints,`))!.split(',');
  for (const [partner, sent] of [['acme', acme], ['beta', beta]] as const) {
    const want = expected(sent);
    const [, , , requests, succeeded, clientErrors, serverErrors, bytesIn, bytesOut, images, , jobs] = row(partner).map(Number);
    assert.deepEqual(
      { requests, succeeded, client_errors: clientErrors, server_errors: serverErrors, bytes_in: bytesIn, bytes_out: bytesOut, images, jobs },
      want,
    );
  }
  assert.equal(csv.length, 3);
});

test('usage on disk with WORKERS=2: every request of a concurrent load is counted once, and kept after a stop', async (t) => {
  const backend = await fakeKeypoint(() => ok());
  const unused = await Promise.all([fakeImage3d(() => ok() as never), fakeArscan(() => ok() as never)]);
  t.after(() => Promise.all([backend, ...unused].map((b) => b.close())));
  const dir = mkdtempSync(join(tmpdir(), 'vg-usage-workers-'));
  const { child, url, output } = await startServerProcess({
    WORKERS: '2',
    KEYPOINT_BACKENDS: backend.address,
    IMAGE3D_BACKENDS: unused[0].address,
    ARSCAN_BACKENDS: unused[1].address,
    USAGE_DIR: dir,
    USAGE_FLUSH_MS: '100',
    DRAIN_DELAY_MS: '0',
  });
  t.after(() => child.kill('SIGKILL'));
  const N = 60;
  const sent: Sent[] = [];
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (sent.length < N) {
        const call = { status: 0, bytesIn: coffee.length, bytesOut: 0 };
        sent.push(call);
        const res = await fetch(`${url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png', connection: 'close' }, body: coffee });
        call.status = res.status;
        call.bytesOut = (await res.arrayBuffer()).byteLength;
      }
    }),
  );
  assert.ok(sent.every((s) => s.status === 200));
  // Without keys every caller is `anonymous`; the key header is ignored.
  await eventually(() => usageOf({ url } as TestGateway, 'unused'), expected(sent));
  child.kill('SIGTERM');
  await once(child, 'exit');
  const json = JSON.parse(await exported({ USAGE_DIR: dir }, 'json')) as Array<{ partner: string; route: string; requests: number; images: number }>;
  assert.deepEqual(json.map(({ partner, route, requests, images }) => ({ partner, route, requests, images })), [{ partner: 'anonymous', route: '/v1/keypoints', requests: N, images: N }], output());
});
