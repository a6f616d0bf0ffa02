import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { fakeImage3d, fakeKeypoint, ok } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import { startGateway } from '../helpers/gateway.js';
import { startServerProcess } from '../helpers/server-process.js';

const coffee = fixture('coffee.png');

test('while draining, /readyz answers 503, answers close their connections, and requests in flight finish', async (t) => {
  const be = await fakeKeypoint(async () => {
    await sleep(400);
    return ok();
  });
  t.after(() => be.close());
  const gw = await startGateway({ KEYPOINT_BACKENDS: be.address });
  // One keep-alive connection, opened before the close, carries the readiness check after it.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const get = (path: string) =>
    new Promise<{ status: number; connection?: string }>((resolve, reject) =>
      http.get(`${gw.url}${path}`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
      }).on('error', reject),
    );
  assert.deepEqual(await get('/healthz'), { status: 200, connection: 'keep-alive' });
  const inFlight = fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: coffee });
  await sleep(100);
  gw.app.startDraining();
  assert.deepEqual(await get('/readyz'), { status: 503, connection: 'close' });
  const closing = gw.close();
  const answered = await inFlight;
  assert.equal(answered.status, 200);
  assert.equal(answered.headers.get('connection'), 'close');
  await closing;
});

test('SIGTERM during a load run: no request is reset, every one is answered, and the process exits 0', async (t) => {
  const be = await fakeKeypoint(async () => {
    await sleep(300);
    return ok();
  });
  t.after(() => be.close());
  const be3d = await fakeImage3d(() => {
    throw new Error('not called');
  });
  t.after(() => be3d.close());
  const { child, url, output } = await startServerProcess({ KEYPOINT_BACKENDS: be.address, IMAGE3D_BACKENDS: be3d.address, DRAIN_DELAY_MS: '1000' });
  t.after(() => child.kill('SIGKILL'));
  const requests = Array.from({ length: 30 }, () =>
    fetch(`${url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: coffee }).then(
      (r) => r.status,
      (e: Error) => `error: ${e.message} ${(e.cause as Error | undefined)?.message ?? ''}`,
    ),
  );
  await sleep(150);
  child.kill('SIGTERM');
  const statuses = await Promise.all(requests);
  assert.deepEqual(statuses, Array(30).fill(200), statuses.join());
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, output());
  // And it no longer listens.
  await assert.rejects(fetch(`${url}/healthz`));
});
