import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { fakeKeypoint, ok, type FakeKeypoint } from '../helpers/fake-backends.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { requireTool } from '../helpers/tools.js';

const MiB = 1024 * 1024;

interface RawAnswer {
  head: string;
  body: string;
  /** Whether the client could write the whole body (a reset would stop it). */
  wroteAll: boolean;
}

/** An HTTP client that writes headers and the whole body before it reads a byte, like urllib. */
function sendAllThenRead(port: number, headers: string, bodyBytes: number): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let wroteAll = false;
    socket.on('error', (err) => reject(err));
    socket.on('connect', async () => {
      socket.pause(); // not reading
      socket.write(headers);
      const chunk = Buffer.alloc(256 * 1024, 0x41);
      for (let sent = 0; sent < bodyBytes; sent += chunk.length) {
        if (!socket.write(chunk.subarray(0, Math.min(chunk.length, bodyBytes - sent)))) {
          await new Promise((r) => socket.once('drain', r));
        }
      }
      wroteAll = true;
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        const text = Buffer.concat(chunks).toString();
        const at = text.indexOf('\r\n\r\n');
        const length = /content-length: (\d+)/i.exec(text.slice(0, at));
        if (at >= 0 && length && text.length >= at + 4 + Number(length[1])) {
          socket.destroy();
          resolve({ head: text.slice(0, at), body: text.slice(at + 4), wroteAll });
        }
      });
      socket.resume();
    });
  });
}

describe('an oversized body gets a readable 413', () => {
  let be: FakeKeypoint;
  let gw: TestGateway;
  before(async () => {
    be = await fakeKeypoint(() => ok());
    gw = await startGateway({ KEYPOINT_BACKENDS: be.address, MAX_IMAGE_BYTES: String(2 * MiB) });
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
      const body = JSON.parse(answer.body) as { code: string; logid: string };
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

  test('a body far past the drain bound is cut off, and the server keeps serving', async () => {
    const socket = net.connect(gw.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(`POST /v1/keypoints HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: ${4000 * MiB}\r\n\r\n`);
    let head = '';
    socket.on('data', (c: Buffer) => (head += c.toString()));
    const chunk = Buffer.alloc(MiB, 0x41);
    let sent = 0;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const writer = (async () => {
      while (!socket.destroyed && sent < 4000 * MiB) {
        if (!socket.write(chunk)) await new Promise((r) => { socket.once('drain', r); socket.once('close', r); });
        sent += chunk.length;
      }
    })();
    await closed;
    await writer;
    assert.match(head, /^HTTP\/1\.1 413 /);
    assert.ok(sent < 400 * MiB, `the gateway stopped reading after ${sent / MiB} MiB`);
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
