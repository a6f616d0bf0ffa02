import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import keypoint from '../../gen/thrift/keypoint_types.js';
import { RpcError } from '../../src/rpc/rpc-error.js';
import { fakeKeypoint, ok } from '../helpers/fake-backends.js';
import { ctx, rpcClient } from '../helpers/rpc.js';

const request = () => new keypoint.DetectRequest({ image: Buffer.from('x') });

test('connections are made lazily, reused, and capped per instance', async (t) => {
  let inFlight = 0;
  let peak = 0;
  const be = await fakeKeypoint(async () => {
    peak = Math.max(peak, ++inFlight);
    await sleep(30);
    inFlight--;
    return ok();
  });
  t.after(() => be.close());
  const rpc = rpcClient({ KEYPOINT_BACKENDS: be.address, KEYPOINT_MAX_CONNECTIONS: '3' });
  t.after(() => rpc.close());
  await sleep(50);
  assert.equal(be.requests.length, 0);
  await Promise.all(Array.from({ length: 12 }, () => rpc.call('keypoint', 'Detect', request(), ctx())));
  assert.equal(be.requests.length, 12);
  assert.equal(peak, 3, 'never more calls at once than connections');
});

test('after a backend restart, the next call goes through on a new connection (as the probe of the ejected instance)', async (t) => {
  const be = await fakeKeypoint(() => ok());
  const rpc = rpcClient({ KEYPOINT_BACKENDS: be.address, KEYPOINT_MAX_CONNECTIONS: '1', RPC_EJECT_BASE_MS: '100' });
  t.after(() => rpc.close());
  await rpc.call('keypoint', 'Detect', request(), ctx());
  await be.close(); // drops the pooled connection
  await sleep(20);
  await assert.rejects(rpc.call('keypoint', 'Detect', request(), ctx()), (e: unknown) => e instanceof RpcError && e.kind === 'unavailable');
  const back = await fakeKeypoint(() => ok({ image_width: 49 }), { port: be.port });
  t.after(() => back.close());
  assert.equal((await rpc.call('keypoint', 'Detect', request(), ctx())).image_width, 49);
});
