import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { fakeKeypoint, ok } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import { KeypointsAnswer } from '../../src/schemas/keypoints.js';
import { answerOrProblem, expectProblem, startGateway } from '../helpers/gateway.js';

const coffee = fixture('coffee.png');

async function slowBackend(t: { after: (fn: () => Promise<void>) => void }, ms: number) {
  const be = await fakeKeypoint(async () => {
    await sleep(ms);
    return ok();
  });
  t.after(() => be.close());
  return be;
}

const post = (url: string) => fetch(`${url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: coffee });

test('past the connections and the wait queue, calls are shed at once with 503 and Retry-After', async (t) => {
  const be = await slowBackend(t, 1000);
  // The queue's wait limit is out of the way: this test is about its capacity alone.
  const gw = await startGateway({ KEYPOINT_BACKENDS: be.address, KEYPOINT_MAX_CONNECTIONS: '1', KEYPOINT_MAX_QUEUE: '2', RPC_QUEUE_TIMEOUT_MS: '600000' });
  t.after(() => gw.close());
  const started = Date.now();
  const results = await Promise.all(
    Array.from({ length: 6 }, async () => {
      const res = await post(gw.url);
      const { status, problem } = await answerOrProblem(res, KeypointsAnswer);
      return { status, code: problem?.code, retryAfter: res.headers.get('retry-after'), ms: Date.now() - started };
    }),
  );
  const shed = results.filter((r) => r.status === 503);
  assert.equal(results.filter((r) => r.status === 200).length, 3, JSON.stringify(results));
  assert.equal(shed.length, 3);
  // "At once": every refusal is answered before the first call could have come back from the
  // backend (an order, not a wall-clock bound, so a loaded machine cannot break it).
  const firstServed = Math.min(...results.filter((r) => r.status === 200).map((r) => r.ms));
  for (const r of shed) {
    assert.equal(r.code, 'BACKEND_OVERLOADED');
    assert.equal(r.retryAfter, '1');
    assert.ok(r.ms < firstServed, `shed after ${r.ms} ms, the first call served after ${firstServed} ms`);
  }
});

test('a call waiting for a connection longer than RPC_QUEUE_TIMEOUT_MS is shed with 503', async (t) => {
  const be = await slowBackend(t, 600);
  const gw = await startGateway({ KEYPOINT_BACKENDS: be.address, KEYPOINT_MAX_CONNECTIONS: '1', RPC_QUEUE_TIMEOUT_MS: '100' });
  t.after(() => gw.close());
  // Whichever reaches the connection first is served; the other waits past the queue's limit.
  // (Which one that is, is up to a loaded machine's scheduler: the test does not assume it.)
  const started = Date.now();
  const timed = () => post(gw.url).then((res) => ({ res, ms: Date.now() - started }));
  const results = await Promise.all([timed(), sleep(50).then(timed)]);
  const served = results.find((r) => r.res.status === 200);
  const shed = results.find((r) => r.res.status === 503);
  assert.ok(served && shed, JSON.stringify(results.map((r) => r.res.status)));
  await expectProblem(shed.res, 503, 'BACKEND_OVERLOADED');
  assert.ok(shed.ms < served.ms, 'shed while the other call still held the connection');
});

test('past MAX_INFLIGHT_REQUEST_BYTES, a request is refused before its body is read', async (t) => {
  const be = await slowBackend(t, 400);
  const gw = await startGateway({ KEYPOINT_BACKENDS: be.address, MAX_INFLIGHT_REQUEST_BYTES: String(coffee.length * 2 + 100) });
  t.after(() => gw.close());
  const results = await Promise.all(Array.from({ length: 3 }, () => post(gw.url)));
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 200, 503]);
  const shed = results.find((r) => r.status === 503)!;
  await expectProblem(shed, 503, 'GATEWAY_OVERLOADED');
  assert.equal(shed.headers.get('retry-after'), '1');
  assert.match(await (await fetch(`${gw.url}/metrics`)).text(), /^visiongate_load_shed_total\{reason="inflight_bytes"\} 1$/m);
  // The bytes are given back: the same requests pass one after another.
  for (let i = 0; i < 3; i++) assert.equal((await post(gw.url)).status, 200);
});
