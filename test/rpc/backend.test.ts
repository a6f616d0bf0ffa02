import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import keypoint from '../../gen/thrift/keypoint_types.js';
import { RpcError } from '../../src/rpc/rpc-error.js';
import { apiErrorFromRpc } from '../../src/rpc-to-http.js';
import { closedPort, fakeKeypoint, ok, rawBackend } from '../helpers/fake-backends.js';
import { ctx, rpcClient } from '../helpers/rpc.js';

const request = () => new keypoint.DetectRequest({ image: Buffer.from('x') });

test('a dead instance among live ones: every call succeeds on the live one, and the dead one is ejected', async (t) => {
  const live = await fakeKeypoint(() => ok({ image_width: 41 }));
  t.after(() => live.close());
  const dead = `127.0.0.1:${await closedPort()}`;
  const rpc = rpcClient({ KEYPOINT_BACKENDS: `${dead},${live.address}` });
  t.after(() => rpc.close());
  const results = await Promise.all(Array.from({ length: 40 }, () => rpc.call('keypoint', 'Detect', request(), ctx())));
  assert.equal(results.length, 40);
  assert.equal(live.requests.length, 40);
  const { keypoint: states } = await rpc.instances(200);
  assert.deepEqual(
    states.map((s) => [s.address, s.state]),
    [
      [dead, 'ejected'],
      [live.address, 'up'],
    ],
  );
});

test('an instance that keeps timing out is ejected, and calls go to the other', async (t) => {
  const slow = await fakeKeypoint(async () => {
    await sleep(1000);
    return ok();
  });
  t.after(() => slow.close());
  const fast = await fakeKeypoint(() => ok());
  t.after(() => fast.close());
  const rpc = rpcClient({ KEYPOINT_BACKENDS: `${slow.address},${fast.address}`, KEYPOINT_TIMEOUT_MS: '150', RPC_EJECT_AFTER_FAILURES: '2' });
  t.after(() => rpc.close());
  const outcomes: string[] = [];
  for (let i = 0; i < 12; i++) {
    outcomes.push(
      await rpc.call('keypoint', 'Detect', request(), ctx()).then(
        () => 'ok',
        (e: RpcError) => e.kind,
      ),
    );
  }
  assert.deepEqual(outcomes.filter((o) => o !== 'ok'), ['timeout', 'timeout'], outcomes.join());
  assert.equal(slow.requests.length, 2);
  assert.equal(fast.requests.length, 10);
});

test('every instance ejected: one probe call at a time goes through, every other call fails at once with Retry-After', async (t) => {
  let stalled = true;
  const be = await fakeKeypoint(async () => {
    while (stalled) await sleep(20);
    return ok({ image_width: 43 });
  });
  t.after(() => be.close());
  t.after(() => (stalled = false));
  const rpc = rpcClient({ KEYPOINT_BACKENDS: be.address, KEYPOINT_TIMEOUT_MS: '300', RPC_EJECT_AFTER_FAILURES: '1', RPC_EJECT_BASE_MS: '4000' });
  t.after(() => rpc.close());
  const call = () => rpc.call('keypoint', 'Detect', request(), ctx());
  await assert.rejects(call(), (e: RpcError) => e.kind === 'timeout');
  const probe = call();
  const started = Date.now();
  await assert.rejects(
    call(),
    (e: RpcError) => e.kind === 'unavailable' && apiErrorFromRpc(e).headers['retry-after'] === '4' && /every keypoint instance is ejected/.test(e.message),
  );
  assert.ok(Date.now() - started < 50, 'failed at once');
  await assert.rejects(probe, (e: RpcError) => e.kind === 'timeout');
  // The backend comes back: the next probe brings the instance back at once, not after 8 s.
  stalled = false;
  assert.equal((await call()).image_width, 43);
  assert.equal((await call()).image_width, 43);
});

test('a call that was sent is never retried, even when another instance is healthy', async (t) => {
  const breaking = await rawBackend((socket) => socket.destroy());
  t.after(() => breaking.close());
  const healthy = await fakeKeypoint(() => ok());
  t.after(() => healthy.close());
  const rpc = rpcClient({ KEYPOINT_BACKENDS: `${breaking.address},${healthy.address}` });
  t.after(() => rpc.close());
  const outcomes = [];
  for (let i = 0; i < 2; i++) {
    outcomes.push(
      await rpc.call('keypoint', 'Detect', request(), ctx()).then(
        () => 'ok',
        (e: RpcError) => e.kind,
      ),
    );
  }
  assert.deepEqual(outcomes.sort(), ['connection-lost', 'ok']);
  assert.equal(breaking.frames, 1);
  assert.equal(healthy.requests.length, 1);
});
