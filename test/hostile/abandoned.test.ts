import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { holdingKeypoint } from '../helpers/fake-backends.js';
import { startGateway } from '../helpers/gateway.js';
import { until } from '../helpers/until.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000040000000400806000000', 'hex');
const SLOW = 7; // max_faces that the backend below sits on

/** A client that sends its whole request and waits for an answer it will never read. */
function hangingPost(port: number): net.Socket {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(`POST /v1/keypoints?max_faces=${SLOW} HTTP/1.1\r\nHost: gateway\r\nContent-Type: image/png\r\nContent-Length: ${PNG.length}\r\n\r\n`);
  socket.write(PNG);
  return socket;
}

test('clients hanging up mid-call: their backend calls are given up at once, connections closed, slots and queue places freed', async (t) => {
  const be = await holdingKeypoint(t, SLOW);
  // Four connections and four places in the queue; calls that would hold them for a minute.
  const gw = await startGateway({ KEYPOINT_BACKENDS: be.address, KEYPOINT_TIMEOUT_MS: '60000', KEYPOINT_MAX_CONNECTIONS: '4', KEYPOINT_MAX_QUEUE: '4', RPC_QUEUE_TIMEOUT_MS: '60000' });
  t.after(() => gw.close());

  const held = Array.from({ length: 4 }, () => hangingPost(gw.port));
  const slow = () => be.requests.filter((r) => r.max_faces === SLOW).length;
  const inFlight = () => gw.app.rpc.snapshot().reduce((n, i) => n + i.inFlight, 0);
  await until(() => slow() === 4, '4 calls on the wire', 30_000);
  const queued = Array.from({ length: 4 }, () => hangingPost(gw.port));
  await until(() => inFlight() === 8, '4 more waiting for a connection', 30_000);
  assert.equal(be.connections(), 4);

  // The queued clients go first (the race of a slot freed for a queued call whose client's
  // hang-up is yet to be read is test/rpc/pool's): their places leave the queue, no call sent.
  for (const client of queued) client.destroy();
  await until(() => inFlight() === 4, 'the queue emptied', 15_000);
  // Then the held ones: the backend sees their four connections closed (Thrift's only "stop"),
  // long before the 60 s deadline, and none left open.
  for (const client of held) client.destroy();
  const hungUpAt = Date.now();
  await until(() => be.closedConnections() >= 4 && be.connections() === 0, 'the backend saw every connection closed', 15_000);
  const closedMs = Date.now() - hungUpAt;
  assert.ok(closedMs < 15_000);
  await until(() => inFlight() === 0, 'no call in flight', 5000);

  // More normal requests than connections and queue together held: all served.
  const statuses = await Promise.all(
    Array.from({ length: 8 }, () => fetch(`${gw.url}/v1/keypoints?max_faces=1`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: PNG }).then((r) => r.status)),
  );
  assert.deepEqual(statuses, Array(8).fill(200));
  // The queued calls never went out.
  assert.equal(slow(), 4);

  await until(() => gw.logs.filter((l) => l.msg === 'request abandoned').length === 8, 'every abandoned request logged', 5000);
  const line = gw.logs.find((l) => l.msg === 'request abandoned')!;
  assert.equal(line.route, '/v1/keypoints');
  assert.equal(typeof line.logid, 'string');
  assert.equal(gw.logs.filter((l) => l.msg === 'backend call abandoned').length, 8);
  // No one's fault: nothing at warn or above (no failed call, no ejection, no error answering a gone client).
  assert.deepEqual(gw.logs.filter((l) => (l.level as number) >= 40).map((l) => l.msg), []);
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  assert.match(metrics, /visiongate_requests_abandoned_total\{route="\/v1\/keypoints"\} 8/);
});
