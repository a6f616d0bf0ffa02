import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ApiError } from '../../src/errors.js';
import { BodyGuard } from '../../src/plugins/body-guard.js';
import { fakeKeypoint, ok, type FakeKeypoint } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import { Problem as ProblemSchema } from '../../src/schemas/problem.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { schedulingSlackMs } from '../helpers/process-stats.js';
import { sendAllThenRead } from '../helpers/raw-http.js';
import { requireTool } from '../helpers/tools.js';

const MiB = 1024 * 1024;
const DRAIN_MS = 2000;

describe('an oversized body gets a readable 413', () => {
  let be: FakeKeypoint;
  let gw: TestGateway;
  before(async () => {
    be = await fakeKeypoint(() => ok());
    gw = await startGateway({ KEYPOINT_BACKENDS: be.address, MAX_IMAGE_BYTES: String(2 * MiB), BODY_DRAIN_MS: String(DRAIN_MS) });
  });
  after(async () => {
    await gw.close();
    await be.close();
  });

  for (const [form, type] of [
    ['raw', 'image/png'],
    ['JSON', 'application/json'],
    ['multipart', 'multipart/form-data; boundary=XYZ'],
  ] as const) {
    test(`${form}: a client that sends all 20 MiB before reading still reads the 413`, async () => {
      const size = 20 * MiB;
      const answer = await sendAllThenRead(
        gw.port,
        `POST /v1/keypoints HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${size}\r\nX-Tt-Logid: big-${form}\r\n\r\n`,
        size,
      );
      assert.ok(answer.wroteAll);
      assert.match(answer.head, /^HTTP\/1\.1 413 /);
      assert.match(answer.head, /x-tt-logid: big-/i);
      assert.match(answer.head, /content-type: application\/problem\+json/i);
      const body = ProblemSchema.parse(JSON.parse(answer.body));
      assert.equal(body.code, 'PAYLOAD_TOO_LARGE');
      assert.equal(body.logid, `big-${form}`);
    });
  }

  test('the 413 comes from Content-Length alone, before any of the body is sent', async () => {
    const socket = net.connect(gw.port, '127.0.0.1');
    socket.write(`POST /v1/keypoints HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: ${500 * MiB}\r\n\r\n`);
    const head = await new Promise<string>((resolve) => socket.once('data', (c: Buffer) => resolve(c.toString())));
    socket.destroy();
    assert.match(head, /^HTTP\/1\.1 413 /);
  });

  test('a refused body that never ends is read for BODY_DRAIN_MS, then cut off, and the server keeps serving', async () => {
    const slack = await schedulingSlackMs(gw.url);
    const startedAt = performance.now();
    const socket = net.connect(gw.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(`POST /v1/keypoints HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: ${4000 * MiB}\r\n\r\n`);
    let head = '';
    let answeredAt = 0;
    socket.on('data', (c: Buffer) => {
      head += c.toString();
      answeredAt ||= performance.now();
    });
    const chunk = Buffer.alloc(MiB, 0x41);
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
    const writer = (async () => {
      while (!socket.destroyed) {
        if (!socket.write(chunk)) await new Promise((r) => { socket.once('drain', r); socket.once('close', r); });
      }
    })();
    const closedAt = await closed;
    await writer;
    assert.match(head, /^HTTP\/1\.1 413 /);
    // Read and dropped for the drain time, not less (the client could still read its answer) and not much more.
    assert.ok(closedAt - startedAt >= DRAIN_MS, `cut off ${(closedAt - startedAt).toFixed(0)} ms after the request began`);
    const drained = closedAt - answeredAt;
    assert.ok(drained < DRAIN_MS + 1000 + 3 * slack, `cut off ${drained.toFixed(0)} ms after the answer (slack ${slack.toFixed(0)} ms)`);
    const res = await fetch(`${gw.url}/healthz`);
    assert.equal(res.status, 200);
  });

  test('Python urllib (sends the whole body first) reads the 413', { skip: requireTool('python3', 'python3') }, async () => {
    const script = `
import sys, urllib.request, urllib.error, json
req = urllib.request.Request(sys.argv[1], data=b"A" * (20 * 1024 * 1024), headers={"Content-Type": "image/png"})
try:
    urllib.request.urlopen(req)
except urllib.error.HTTPError as e:
    print(e.code, json.loads(e.read())["code"])
`;
    const out = (await promisify(execFile)('python3', ['-c', script, `${gw.url}/v1/keypoints`])).stdout;
    assert.equal(out.trim(), '413 PAYLOAD_TOO_LARGE');
  });
});

test('a chunk read through the body guard is not kept by it (each read raced one promise that never settled, which held every chunk until the request ended: 2.0x a raw zip in memory, was 1.2x)', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const guard = new BodyGuard(1 << 30, 'test', undefined);
  const refs: Array<WeakRef<object>> = [];
  for (let i = 0; i < 10; i++) {
    const chunk = { value: Buffer.alloc(64 * 1024), done: false };
    refs.push(new WeakRef(chunk));
    await guard.waitFor(Promise.resolve(chunk));
  }
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  // The last one may still be referenced from this function's own frame; the others not.
  assert.ok(refs.filter((r) => r.deref() !== undefined).length <= 1, 'chunks still reachable through the guard');
  // It still fails a read once the body is given up.
  guard.abort(new ApiError('REQUEST_TIMEOUT'));
  await assert.rejects(guard.waitFor(new Promise(() => {})), (err: ApiError) => err.code === 'REQUEST_TIMEOUT');
});

test('an answered request is not kept by the body guard until its next tick (every answered request stayed alive up to a second, and under load young collections moved them all to the old generation)', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const be = await fakeKeypoint(() => ok());
  // The guard's tick is a second with these windows: a request it still held would be found.
  const gw = await startGateway({ KEYPOINT_BACKENDS: be.address, BODY_RATE_WINDOW_MS: '60000', BODY_MAX_PAUSE_MS: '60000' });
  const photo = fixture('astronaut.png');
  const requests: Array<WeakRef<object>> = [];
  const onStart = ({ request }: { request: object }) => requests.push(new WeakRef(request));
  diagnosticsChannel.subscribe('http.server.request.start', onStart as (message: unknown) => void);
  try {
    for (let i = 0; i < 5; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request({ port: gw.port, host: '127.0.0.1', method: 'POST', path: '/v1/keypoints', agent: false, headers: { 'content-type': 'image/png', connection: 'close' } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end(photo);
      });
      assert.equal(status, 200);
    }
    // The answers' onResponse hooks (the guard's among them) have run once their log lines are written.
    while (gw.logs.filter((line) => line.msg === 'request completed').length < 5) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(requests.length, 5);
    assert.deepEqual(requests.filter((r) => r.deref() !== undefined).length, 0, 'answered requests still reachable');
  } finally {
    diagnosticsChannel.unsubscribe('http.server.request.start', onStart as (message: unknown) => void);
    await gw.close();
    await be.close();
  }
});
