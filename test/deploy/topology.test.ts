import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { hashKey } from '../../src/partners/api-keys.js';
import { fakeKeypoint, ok, type FakeKeypoint } from '../helpers/fake-backends.js';
import { jpeg } from '../helpers/fixtures.js';
import { expectProblem } from '../helpers/gateway.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { startNginx, startRedis, type Service } from '../helpers/services.js';
import { requireTools } from '../helpers/tools.js';

const KEY = 'vg_topology-test-key-0123456789';
const SLOW_KEY = 'vg_topology-slow-key-012345678';
const REDIS_PASSWORD = 'topology-redis-password-9f3k';

// The docker-compose topology as local processes: nginx in front of two gateway replicas,
// which share their partners' limits through one Redis; a backend behind them.
describe('two gateways behind nginx, sharing limits through Redis', { skip: requireTools({ 'redis-server': 'redis-server', nginx: 'nginx-light' }) }, () => {
  let redis: Service;
  let backend: FakeKeypoint;
  let gateways: ServerProcess[];
  let nginx: Service;
  let image: Buffer;

  before(async () => {
    image = await jpeg(96, 96);
    redis = await startRedis({ password: REDIS_PASSWORD });
    backend = await fakeKeypoint(async (req) => {
      if (req.Base?.Client === 'slow') await sleep(1500);
      return ok();
    });
    const keys = join(mkdtempSync(join(tmpdir(), 'vg-keys-')), 'keys.json');
    writeFileSync(keys, JSON.stringify({ partners: { acme: { keys: [hashKey(KEY)], requests_per_second: 6 }, slow: { keys: [hashKey(SLOW_KEY)], max_concurrent: 1 } } }));
    const env = { KEYPOINT_BACKENDS: backend.address, IMAGE3D_BACKENDS: backend.address, ARSCAN_BACKENDS: backend.address, API_KEYS_FILE: keys, REDIS_URL: redis.url };
    gateways = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    nginx = await startNginx(gateways.map((g) => g.url.replace('http://', '')));
  });
  after(async () => {
    await nginx?.stop();
    for (const g of gateways ?? []) g.child.kill('SIGKILL');
    await backend?.close();
    await redis?.stop();
  });

  const post = (base: string, key = KEY) =>
    fetch(`${base}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/jpeg', 'x-api-key': key }, body: image });

  test('nginx spreads requests over both replicas, and the log id comes through', async () => {
    const res = await post(nginx.url);
    assert.equal(res.status, 200);
    assert.ok(res.headers.get('x-tt-logid'));
    const before = backend.requests.length;
    await Promise.all(Array.from({ length: 4 }, () => fetch(`${nginx.url}/healthz`)));
    assert.equal(backend.requests.length, before);
    await sleep(1100);
  });

  test('a partner has one budget of requests per second across the replicas', async () => {
    await sleep(1100); // a fresh window
    // 12 requests in well under a second, half to each replica directly: 6 pass in all.
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => post(gateways[i % 2]!.url)));
    const passed = answers.filter((r) => r.status === 200).length;
    assert.equal(passed, 6, answers.map((r) => r.status).join(' '));
    assert.ok(answers.filter((r) => r.status === 429).every((r) => r.headers.get('retry-after')));
    // Both replicas refused some: the budget is shared, not one per replica.
    const refusedBy = new Set(answers.map((r, i) => (r.status === 429 ? i % 2 : -1)).filter((i) => i >= 0));
    assert.equal(refusedBy.size, 2);
    await sleep(1100);
    // Through nginx: the same budget.
    const viaNginx = await Promise.all(Array.from({ length: 8 }, () => post(nginx.url)));
    assert.equal(viaNginx.filter((r) => r.status === 200).length, 6);
  });

  test('requests in flight are counted across the replicas', async () => {
    const first = post(gateways[0]!.url, SLOW_KEY);
    await sleep(300);
    await expectProblem(await post(gateways[1]!.url, SLOW_KEY), 429, 'TOO_MANY_CONCURRENT_REQUESTS');
    assert.equal((await first).status, 200);
    assert.equal((await post(gateways[1]!.url, SLOW_KEY)).status, 200, 'the slot came back');
  });

  test('when Redis goes away the replicas keep serving, without limits (fail open), and say so in their logs', async () => {
    const redisUp = async () => /^visiongate_redis_up\{use="limits"\} (\d)$/m.exec(await (await fetch(`${gateways[0]!.url}/metrics`)).text())?.[1];
    assert.equal(await redisUp(), '1');
    await redis.stop();
    // Long enough for several reconnect attempts by each connection (every 200 ms to 2 s).
    await sleep(2500);
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => post(i % 2 ? nginx.url : gateways[0]!.url)));
    assert.deepEqual([...new Set(answers.map((r) => r.status))], [200]);
    assert.ok(Date.now() - started < 5000, 'no request waited on the dead Redis');
    assert.match(gateways[0]!.output(), /Redis unreachable; serving without limits/);
    assert.equal(await redisUp(), '0', 'the gauge an alert watches says so too');
  });

  test('a Redis outage is logged once per connection, in JSON lines, and its password never', () => {
    const output = gateways[0]!.output();
    assert.equal(output.match(/rate limits: Redis unreachable/g)?.length, 1, 'not a line per reconnect attempt');
    assert.match(output, /"redis":"127\.0\.0\.1:\d+\/0"/, 'where Redis is, without its credentials');
    assert.ok(!output.includes(REDIS_PASSWORD), 'REDIS_URL\'s password is in the log');
    assert.doesNotMatch(output, /Unhandled error event/, 'a connection without an error listener: ioredis wrote outside the JSON log');
    assert.doesNotMatch(output, /^Error: /m, 'a BullMQ queue without an error listener: BullMQ wrote its errors with console.error');
    // Each queue and worker (two kinds) reports every failed reconnect: a line a minute each.
    assert.ok((output.match(/jobs: queue (worker )?error/g)?.length ?? 0) <= 4, 'BullMQ\'s errors, at most a line a minute per queue and worker');
  });
});
