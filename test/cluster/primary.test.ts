import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { fakeArscan, fakeImage3d, fakeKeypoint, ok } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import { startServerProcess } from '../helpers/server-process.js';

const coffee = fixture('coffee.png');

/** Pids of the processes that logged a completed request. */
const servingPids = (output: string) => new Set([...output.matchAll(/"pid":(\d+)[^\n]*"msg":"request completed"/g)].map((m) => Number(m[1])));

test('WORKERS=2: two processes share the port, /metrics counts for both, a killed worker is replaced, SIGTERM drains them all', async (t) => {
  const be = await fakeKeypoint(async () => {
    await sleep(200);
    return ok();
  });
  const unused = await Promise.all([fakeImage3d(() => ok() as never), fakeArscan(() => ok() as never)]);
  t.after(() => Promise.all([be, ...unused].map((b) => b.close())));
  const { child, url, output } = await startServerProcess({
    WORKERS: '2',
    KEYPOINT_BACKENDS: be.address,
    IMAGE3D_BACKENDS: unused[0].address,
    ARSCAN_BACKENDS: unused[1].address,
    DRAIN_DELAY_MS: '500',
  });
  t.after(() => child.kill('SIGKILL'));
  const post = () =>
    fetch(`${url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png', connection: 'close' }, body: coffee }).then(
      (r) => r.status,
      (e: Error) => `error: ${e.message}`,
    );

  // The second worker may still be starting when the first listens: ask until both have served.
  let sent = 0;
  for (let round = 0; round < 50 && servingPids(output()).size < 2; round++) {
    const statuses = await Promise.all(Array.from({ length: 8 }, post));
    sent += statuses.length;
    assert.deepEqual(statuses, Array(8).fill(200));
  }
  const first = servingPids(output());
  assert.equal(first.size, 2, 'two workers answered');

  // One scrape answers for every worker.
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const served = [...metrics.matchAll(/^visiongate_http_requests_total\{[^}]*route="\/v1\/keypoints"[^}]*status="200"[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  assert.equal(served, sent, 'the aggregated counter holds every worker\'s requests');
  // Gauges of what every worker sees alike are not added up: one keypoint instance, not two.
  assert.match(metrics, /^visiongate_backend_instances\{backend="keypoint",state="up"\} 1$/m);

  // A worker that dies is replaced, and the others serve meanwhile.
  const [victim] = [...first];
  process.kill(victim!, 'SIGKILL');
  for (let i = 0; i < 100 && !/a gateway worker exited; starting another/.test(output()); i++) await sleep(50);
  assert.match(output(), /a gateway worker exited; starting another/);
  for (let round = 0; round < 50 && [...servingPids(output())].filter((pid) => !first.has(pid)).length === 0; round++) {
    assert.deepEqual(await Promise.all(Array.from({ length: 8 }, post)), Array(8).fill(200));
  }
  assert.ok([...servingPids(output())].some((pid) => !first.has(pid)), 'a new worker serves');

  // SIGTERM to the primary: every request in flight is answered, then everything exits 0.
  const inFlight = Array.from({ length: 20 }, post);
  await sleep(100);
  child.kill('SIGTERM');
  assert.deepEqual(await Promise.all(inFlight), Array(20).fill(200));
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, output());
  await assert.rejects(fetch(`${url}/healthz`));
});
