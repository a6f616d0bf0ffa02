import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import keypoint from '../../gen/thrift/keypoint_types.js';
import { RpcError } from '../../src/rpc/rpc-error.js';
import { fakeKeypoint, holdingKeypoint, ok } from '../helpers/fake-backends.js';
import { frozenHost } from '../helpers/frozen-host.js';
import { ctx, rpcClient } from '../helpers/rpc.js';
import { until } from '../helpers/until.js';

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

const HELD = 7; // max_faces that holdingKeypoint sits on

/** Connections the backend has accepted so far, open or closed. */
const accepted = (be: { connections(): number; closedConnections(): number }) => be.connections() + be.closedConnections();

const abandonedUnsent = (e: unknown) => e instanceof RpcError && e.kind === 'abandoned' && !e.sent;

test('a freed slot is not spent on a queued call whose client has gone', async (t) => {
  const be = await holdingKeypoint(t, HELD);
  const env = { KEYPOINT_BACKENDS: be.address, KEYPOINT_MAX_CONNECTIONS: '1', KEYPOINT_TIMEOUT_MS: '60000', RPC_QUEUE_TIMEOUT_MS: '60000' };
  const rpc = rpcClient(env);
  t.after(() => rpc.close());
  // One caller's two calls (the held one first): its going frees the slot while its queued
  // call is still in the queue, its signal already aborted.
  const gone = new AbortController();
  const onWire = rpc.call('keypoint', 'Detect', new keypoint.DetectRequest({ image: Buffer.from('x'), max_faces: HELD }), { ...ctx(), signal: gone.signal });
  await until(() => be.requests.length === 1, 'the first call on the wire', 10_000);
  const queued = rpc.call('keypoint', 'Detect', request(), { ...ctx(), signal: gone.signal });
  await until(() => rpc.snapshot()[0]!.inFlight === 2, 'the second call queued', 10_000);

  gone.abort();
  await assert.rejects(onWire, (e: unknown) => e instanceof RpcError && e.kind === 'abandoned' && e.sent);
  await assert.rejects(queued, abandonedUnsent);
  // A call through a pool of its own: the backend accepts connections in order, so any the
  // first pool opened for its gone caller has been accepted by the time this one is answered.
  const other = rpcClient(env);
  t.after(() => other.close());
  await other.call('keypoint', 'Detect', request(), ctx());
  assert.equal(accepted(be), 2, "the held call's connection and the other pool's: none for the gone caller");
  // Its slot is free again: a live call gets it.
  await rpc.call('keypoint', 'Detect', request(), ctx());
  assert.equal(be.requests.length, 3);
});

test('a queued call whose client goes while its connection is being opened: abandoned at once, and the connection not kept', async (t) => {
  const be = await holdingKeypoint(t, HELD);
  const rpc = rpcClient({ KEYPOINT_BACKENDS: be.address, KEYPOINT_MAX_CONNECTIONS: '1', KEYPOINT_TIMEOUT_MS: '60000', RPC_QUEUE_TIMEOUT_MS: '60000' });
  t.after(() => rpc.close());
  const first = new AbortController();
  const second = new AbortController();
  const onWire = rpc.call('keypoint', 'Detect', new keypoint.DetectRequest({ image: Buffer.from('x'), max_faces: HELD }), { ...ctx(), signal: first.signal });
  await until(() => be.requests.length === 1, 'the first call on the wire', 10_000);
  const queued = rpc.call('keypoint', 'Detect', request(), { ...ctx(), signal: second.signal });
  await until(() => rpc.snapshot()[0]!.inFlight === 2, 'the second call queued', 10_000);

  // The first hang-up frees the slot and the queued call's connection starts opening; its own
  // client's hang-up comes before that connection is open (as clients hanging up together do).
  first.abort();
  second.abort();
  await assert.rejects(onWire, (e: unknown) => e instanceof RpcError && e.kind === 'abandoned');
  await assert.rejects(queued, abandonedUnsent);
  await until(() => be.connections() === 0, 'no connection to the backend kept open', 10_000);
  assert.equal(be.requests.length, 1);
  await rpc.call('keypoint', 'Detect', request(), ctx());
  assert.equal(be.requests.length, 2);
});

test('a queued call served a freed slot gives its connect up at its own deadline, not at the connect timeout', async (t) => {
  const host = await frozenHost(t);
  // A 60 s connect timeout, a 3 s call deadline: the queued call must fail near the latter.
  const rpc = rpcClient({ KEYPOINT_BACKENDS: host.address, KEYPOINT_MAX_CONNECTIONS: '1', KEYPOINT_TIMEOUT_MS: '3000', RPC_CONNECT_TIMEOUT_MS: '60000', RPC_QUEUE_TIMEOUT_MS: '60000' });
  t.after(() => rpc.close());
  const first = new AbortController();
  // Its connection lands in the frozen host's accept queue and its request in the socket buffers.
  const held = rpc.call('keypoint', 'Detect', request(), { ...ctx(), signal: first.signal });
  await until(() => rpc.snapshot()[0]!.inFlight === 1, 'the first call sent', 10_000);
  await host.fill(1); // the queue is full: the next connect hangs
  const queued = rpc.call('keypoint', 'Detect', request(), ctx());
  await until(() => rpc.snapshot()[0]!.inFlight === 2, 'the second call queued', 10_000);

  first.abort();
  await assert.rejects(held, (e: unknown) => e instanceof RpcError && e.kind === 'abandoned');
  const freedAt = Date.now();
  // The call's timeout (a 504), not the instance's fault: it had less than the connect timeout.
  await assert.rejects(queued, (e: unknown) => e instanceof RpcError && e.kind === 'timeout' && !e.sent && /deadline passed while connecting/.test(e.message));
  // Its deadline was at most 3 s away; the connect timeout 60 s.
  assert.ok(Date.now() - freedAt < 30_000, `gave up after ${Date.now() - freedAt} ms`);
});

test('a readiness probe of a frozen host fails at its own timeout and counts against the instance', async (t) => {
  const host = await frozenHost(t);
  await host.fill(2); // the accept queue is full: every connect hangs
  // The probe's timeout below the connect timeout: it is the probe's connect timeout, not a call's deadline.
  const rpc = rpcClient({ KEYPOINT_BACKENDS: host.address, RPC_CONNECT_TIMEOUT_MS: '60000', RPC_EJECT_AFTER_FAILURES: '1' });
  t.after(() => rpc.close());
  const [report] = (await rpc.instances(300)).keypoint;
  assert.match(report!.error ?? '', /connect to .* timed out after 300 ms/);
  assert.equal(report!.state, 'ejected');
});
