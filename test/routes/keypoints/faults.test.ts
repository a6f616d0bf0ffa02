import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import thrift from 'thrift';
import keypoint from '../../../gen/thrift/keypoint_types.js';
import { closedPort, fakeKeypoint, ok, rawBackend, status, type FakeKeypoint, type RawBackend } from '../../helpers/fake-backends.js';
import { fixture, flatPng } from '../../helpers/fixtures.js';
import { KeypointsAnswer } from '../../../src/schemas/keypoints.js';
import { answerOrProblem, expectAnswer, expectProblem, startGateway, type TestGateway } from '../../helpers/gateway.js';

const coffee = fixture('coffee.png');

function post(gw: TestGateway, logid?: string, photo = coffee): Promise<Response> {
  return fetch(`${gw.url}/v1/keypoints`, {
    method: 'POST',
    headers: { 'content-type': 'image/png', ...(logid ? { 'x-tt-logid': logid } : {}) },
    body: photo,
  });
}

/** Tears down what a test started, whatever happened. */
const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

async function gatewayFor(address: string, env: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await startGateway({ KEYPOINT_BACKENDS: address, KEYPOINT_TIMEOUT_MS: '400', ...env });
  cleanup.push(() => gw.close());
  return gw;
}

async function fake(...args: Parameters<typeof fakeKeypoint>): Promise<FakeKeypoint> {
  const be = await fakeKeypoint(...args);
  cleanup.push(() => be.close());
  return be;
}

async function raw(...args: Parameters<typeof rawBackend>): Promise<RawBackend> {
  const be = await rawBackend(...args);
  cleanup.push(() => be.close());
  return be;
}

describe('backend faults reach the partner as documented errors, quickly', () => {
  test('a backend that never answers: 504 at the deadline, and its socket is destroyed', async () => {
    const be = await raw(() => {});
    const gw = await gatewayFor(be.address);
    const started = Date.now();
    await expectProblem(await post(gw), 504, 'BACKEND_TIMEOUT');
    assert.ok(Date.now() - started < 1500, 'answered at the deadline');
    // The gateway hung up, so a late reply has nowhere to go.
    for (let i = 0; i < 50 && be.closes === 0; i++) await sleep(10);
    assert.equal(be.closes, 1);
    const log = gw.logs.find((l) => l.msg === 'backend call failed');
    assert.match(String((log?.err as { message?: string })?.message), /no reply to Detect within its deadline/);
  });

  test('after timed-out calls, every answer still belongs to its own request', async () => {
    // The backend echoes a number taken from the log id as the image's size, after a delay also
    // taken from it; each request sends a photo of that size (replies are checked against it).
    const be = await fake(async (req) => {
      const [, n, delay] = /^echo-(\d+)-(\d+)$/.exec(req.Base?.LogID ?? '')!;
      await sleep(Number(delay));
      return ok({ image_width: Number(n), image_height: Number(n) });
    });
    // One connection, so every call reuses the socket a timed-out call would have left behind.
    const gw = await gatewayFor(be.address, { KEYPOINT_MAX_CONNECTIONS: '1', KEYPOINT_TIMEOUT_MS: '300' });
    const first = await post(gw, 'echo-1-600');
    await expectProblem(first, 504, 'BACKEND_TIMEOUT');
    const second = await post(gw, 'echo-42-0', await flatPng(42, 42));
    assert.equal((await expectAnswer(second, KeypointsAnswer)).image.width, 42);

    // Eight timeouts would eject the only instance (RPC_EJECT_AFTER_FAILURES, 3 by default), and
    // the answers after it would be 503s: this test is about answers reaching their own requests.
    const gw4 = await gatewayFor(be.address, { KEYPOINT_MAX_CONNECTIONS: '4', KEYPOINT_TIMEOUT_MS: '250', RPC_EJECT_AFTER_FAILURES: '1000' });
    const results = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const slow = i % 3 === 0;
        const res = await post(gw4, `echo-${100 + i}-${slow ? 500 : 5}`, await flatPng(100 + i, 100 + i));
        const { status, answer, problem } = await answerOrProblem(res, KeypointsAnswer);
        return { i, slow, status, width: answer?.image.width, code: problem?.code };
      }),
    );
    for (const r of results) {
      if (r.status === 200) assert.equal(r.width, 100 + r.i, `request ${r.i} got another request's answer`);
      else assert.ok(r.code === 'BACKEND_TIMEOUT', `request ${r.i}: ${r.status} ${r.code}`);
      if (r.slow) assert.equal(r.status, 504);
    }
    assert.ok(results.filter((r) => r.status === 200).length >= 8, 'the fast requests got through');
  });

  test('a backend that closes the connection mid-call: 502 at once', async () => {
    const be = await raw((socket) => socket.destroy());
    const gw = await gatewayFor(be.address, { KEYPOINT_TIMEOUT_MS: '5000' });
    const started = Date.now();
    const body = await expectProblem(await post(gw), 502, 'BACKEND_CONNECTION_LOST');
    assert.ok(Date.now() - started < 2000);
    assert.match(body.message, /closed the connection/);
  });

  test('a backend that answers garbage: 502 protocol error', async () => {
    const be = await raw((socket) => {
      const garbage = Buffer.from('this is not thrift at all, just some text');
      const frame = Buffer.alloc(4 + garbage.length);
      frame.writeInt32BE(garbage.length, 0);
      garbage.copy(frame, 4);
      socket.write(frame);
    });
    const gw = await gatewayFor(be.address, { KEYPOINT_TIMEOUT_MS: '5000' });
    await expectProblem(await post(gw), 502, 'BACKEND_PROTOCOL_ERROR');
  });

  test('a backend that announces a huge frame: 502 at once, nothing allocated for it', async () => {
    const be = await raw((socket) => {
      const head = Buffer.alloc(4);
      head.writeInt32BE(0x7ffffff0, 0);
      socket.write(head);
    });
    const gw = await gatewayFor(be.address, { KEYPOINT_TIMEOUT_MS: '5000', RPC_MAX_FRAME_BYTES: String(1 << 20) });
    const started = Date.now();
    const body = await expectProblem(await post(gw), 502, 'BACKEND_PROTOCOL_ERROR');
    assert.ok(Date.now() - started < 2000);
    assert.match(body.message, /frame of 2147483632 bytes, beyond the 1048576-byte cap/);
  });

  test('a half-written frame, then silence: 504 at the deadline', async () => {
    const be = await raw((socket) => {
      const head = Buffer.alloc(10);
      head.writeInt32BE(500, 0);
      head.write('\x80\x01\x00\x02', 4, 'latin1');
      socket.write(head);
    });
    const gw = await gatewayFor(be.address, { KEYPOINT_TIMEOUT_MS: '300' });
    await expectProblem(await post(gw), 504, 'BACKEND_TIMEOUT');
  });

  test('a reply for another seqid is refused, not delivered', async () => {
    const be = await raw((socket, frame) => {
      // Echo the call back as a reply with the seqid off by one.
      const nameLength = frame.readInt32BE(4);
      const seqid = frame.readInt32BE(8 + nameLength);
      const out = new thrift.TFramedTransport(undefined, (buf) => buf && socket.write(buf));
      const proto = new thrift.TBinaryProtocol(out);
      proto.writeMessageBegin('Detect', thrift.Thrift.MessageType.REPLY, seqid + 1);
      proto.writeStructBegin('r');
      proto.writeFieldStop();
      proto.writeStructEnd();
      proto.writeMessageEnd();
      out.flush();
    });
    const gw = await gatewayFor(be.address);
    const body = await expectProblem(await post(gw), 502, 'BACKEND_PROTOCOL_ERROR');
    assert.match(body.message, /does not match call "Detect"/);
  });

  test('a backend answering unframed to a framed call: 502 naming the transport mismatch', async () => {
    const be = await raw((socket) => socket.write(Buffer.from([0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x06])));
    const gw = await gatewayFor(be.address);
    const body = await expectProblem(await post(gw), 502, 'BACKEND_PROTOCOL_ERROR');
    assert.match(body.message, /seems to speak buffered transport with binary protocol/);
  });

  for (const [backend, gateway] of [
    [{ transport: 'buffered', protocol: 'binary' }, { transport: 'framed', protocol: 'binary' }],
    [{ transport: 'framed', protocol: 'binary' }, { transport: 'buffered', protocol: 'binary' }],
    [{ transport: 'framed', protocol: 'compact' }, { transport: 'framed', protocol: 'binary' }],
    [{ transport: 'framed', protocol: 'binary' }, { transport: 'framed', protocol: 'compact' }],
  ] as const) {
    test(`a ${backend.transport}/${backend.protocol} backend called as ${gateway.transport}/${gateway.protocol}: a clear 502, not a hang`, async () => {
      const be = await fake(() => ok(), backend);
      const gw = await gatewayFor(be.address, {
        KEYPOINT_TRANSPORT: gateway.transport,
        KEYPOINT_PROTOCOL: gateway.protocol,
        KEYPOINT_TIMEOUT_MS: '10000',
      });
      const started = Date.now();
      const body = await expectProblem(await post(gw), 502, 'BACKEND_CONNECTION_LOST');
      assert.ok(Date.now() - started < 3000);
      assert.match(body.message, /KEYPOINT_TRANSPORT=.* and KEYPOINT_PROTOCOL=.* match the backend/);
    });
  }

  test('the other wire settings work end to end when both sides agree', async () => {
    for (const wire of [
      { transport: 'buffered', protocol: 'binary' },
      { transport: 'framed', protocol: 'compact' },
      { transport: 'buffered', protocol: 'compact' },
    ] as const) {
      const be = await fake(() => ok({ image_width: 77 }), wire);
      const gw = await gatewayFor(be.address, { KEYPOINT_TRANSPORT: wire.transport, KEYPOINT_PROTOCOL: wire.protocol });
      const res = await post(gw, undefined, await flatPng(77, 77));
      assert.equal((await expectAnswer(res, KeypointsAnswer)).image.width, 77, JSON.stringify(wire));
    }
  });

  test('nothing listening: 503 with Retry-After', async () => {
    const gw = await gatewayFor(`127.0.0.1:${await closedPort()}`);
    const res = await post(gw);
    await expectProblem(res, 503, 'BACKEND_UNAVAILABLE');
    assert.equal(res.headers.get('retry-after'), '1');
  });

  test('a backend that raises an exception: 502 BACKEND_ERROR, its words kept out of the answer', async () => {
    const be = await fake(() => {
      throw new Error('secret internal detail');
    });
    const gw = await gatewayFor(be.address);
    const body = await expectProblem(await post(gw), 502, 'BACKEND_ERROR');
    assert.doesNotMatch(JSON.stringify(body), /secret internal detail/);
  });

  for (const [code, status_, errorCode] of [
    [1001, 400, 'INVALID_ARGUMENT'],
    [1002, 422, 'IMAGE_UNDECODABLE'],
    [1003, 422, 'IMAGE_DIMENSIONS_UNSUPPORTED'],
    [2001, 503, 'BACKEND_OVERLOADED'],
    [5000, 502, 'BACKEND_ERROR'],
    [4242, 502, 'BACKEND_ERROR'],
  ] as const) {
    test(`BaseResp.StatusCode ${code} → ${status_} ${errorCode}, StatusMessage in the log only`, async () => {
      const be = await fake(() => status(code, `private message ${code}`));
      const gw = await gatewayFor(be.address);
      const res = await post(gw);
      const body = await expectProblem(res, status_, errorCode);
      assert.doesNotMatch(JSON.stringify(body), /private message/);
      if (code === 2001) assert.equal(res.headers.get('retry-after'), '1');
      const logged = gw.logs.filter((l) => l.logid === body.logid).map((l) => JSON.stringify(l));
      assert.ok(logged.some((l) => l.includes(`private message ${code}`)), 'StatusMessage is logged');
    });
  }
});

test('landmarks are answered to 1/100 pixel, whatever precision the backend sends', async (t) => {
  const face = new keypoint.Face({
    rect: new keypoint.Rect({ left: 1, top: 2, width: 3, height: 4 }),
    score: 0.9,
    landmarks: Array.from({ length: 106 }, (_, i) => new keypoint.Point({ x: i + 1 / 3, y: i + 2 / 3 })),
  });
  const be = await fakeKeypoint(() => ok({ faces: [face] }));
  t.after(() => be.close());
  const gw = await startGateway({ KEYPOINT_BACKENDS: be.address });
  t.after(() => gw.close());
  const res = await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: fixture('astronaut.png') });
  const body = await expectAnswer(res, KeypointsAnswer);
  assert.deepEqual(body.faces[0]!.landmarks[0], [0.33, 0.67]);
  assert.deepEqual(body.faces[0]!.landmarks[105], [105.33, 105.67]);
});
