import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { test } from 'node:test';
import keypoint from '../../../gen/thrift/keypoint_types.js';
import { fakeKeypoint, ok } from '../../helpers/fake-backends.js';
import { ctx, rpcClient } from '../../helpers/rpc.js';

const request = () => new keypoint.DetectRequest({ image: Buffer.from('x') });

test('a host name is resolved by the system resolver into its addresses', async (t) => {
  const be = await fakeKeypoint(() => ok({ image_width: 44 }));
  t.after(() => be.close());
  const rpc = rpcClient({ KEYPOINT_BACKENDS: `localhost:${be.port}` });
  t.after(() => rpc.close());
  await rpc.startResolving(async (host) => (await lookup(host, { all: true, family: 4 })).map((a) => a.address), 60_000);
  const { keypoint: states } = await rpc.instances(500);
  assert.deepEqual(states.map((s) => [s.address, s.name, s.state]), [[`127.0.0.1:${be.port}`, 'localhost', 'up']]);
  assert.equal((await rpc.call('keypoint', 'Detect', request(), ctx())).image_width, 44);
});

test('a name whose addresses change is re-resolved: instances join and leave', async (t) => {
  // Two real backends on one port, at two loopback addresses; the name's DNS answer is the test's.
  const one = await fakeKeypoint(() => ok({ image_width: 41 }), { host: '127.0.0.1' });
  t.after(() => one.close());
  const two = await fakeKeypoint(() => ok({ image_width: 42 }), { host: '127.0.0.2', port: one.port });
  t.after(() => two.close());
  let answer = ['127.0.0.1'];
  const rpc = rpcClient({ KEYPOINT_BACKENDS: `backends.example:${one.port}` });
  t.after(() => rpc.close());
  await rpc.startResolving(async () => answer, 50);
  const widths = async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 6; i++) seen.add((await rpc.call('keypoint', 'Detect', request(), ctx())).image_width!);
    return [...seen].sort();
  };
  assert.deepEqual(await widths(), [41]);
  answer = ['127.0.0.1', '127.0.0.2'];
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(await widths(), [41, 42]);
  answer = ['127.0.0.2'];
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(await widths(), [42]);
  const { keypoint: states } = await rpc.instances(500);
  assert.deepEqual(states.map((s) => s.address), [`127.0.0.2:${one.port}`]);
});

test('a lookup that fails keeps the instances there were', async (t) => {
  const be = await fakeKeypoint(() => ok({ image_width: 47 }));
  t.after(() => be.close());
  let fail = false;
  const rpc = rpcClient({ KEYPOINT_BACKENDS: `backends.example:${be.port}` });
  t.after(() => rpc.close());
  await rpc.startResolving(async () => {
    if (fail) throw new Error('ENOTFOUND');
    return ['127.0.0.1'];
  }, 50);
  fail = true;
  await new Promise((r) => setTimeout(r, 150));
  assert.equal((await rpc.call('keypoint', 'Detect', request(), ctx())).image_width, 47);
});
