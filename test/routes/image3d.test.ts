import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startImage3dBackend } from '../../src/backends/image3d/server.js';
import type { RunningServer } from '../../src/shared/thrift-server.js';
import { fixture, flatPng } from '../helpers/fixtures.js';
import { Image3dJsonAnswer } from '../../src/schemas/image3d.js';
import { expectAnswer, startGateway, type TestGateway } from '../helpers/gateway.js';
import { gifInfo, mp4Info, pngInfo } from '../helpers/media.js';

describe('POST /v1/image3d/videos against the reference backend', () => {
  let backend: RunningServer;
  let gw: TestGateway;
  before(async () => {
    backend = await startImage3dBackend({ host: '127.0.0.1', port: 0, transport: 'framed', protocol: 'binary', maxFrameBytes: 64 << 20 });
    gw = await startGateway({ IMAGE3D_BACKENDS: `127.0.0.1:${backend.port}`, IMAGE3D_TIMEOUT_MS: '60000' });
  });
  after(async () => {
    await gw.close();
    await backend.close();
  });

  const coffee = fixture('coffee.png');
  const raw = (query: string, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}/v1/image3d/videos${query}`, { method: 'POST', headers: { 'content-type': 'image/png', ...headers }, body: coffee });

  test('a raw photo gives a playable H.264 MP4 download of 3 s by default', async () => {
    const res = await raw('');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'video/mp4');
    const logid = res.headers.get('x-tt-logid');
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="${logid}.mp4"`);
    const info = mp4Info(Buffer.from(await res.arrayBuffer()));
    assert.equal(info.boxes[0], 'ftyp');
    assert.ok(info.boxes.includes('moov') && info.boxes.includes('mdat'), info.boxes.join());
    assert.ok(Math.abs(info.durationSeconds - 3) < 0.11, `duration ${info.durationSeconds}`);
  });

  test('speed 0.5, 1 and 2 give videos of 4, 2 and 1 s for duration_ms 2000', async () => {
    for (const [speed, seconds] of [
      [0.5, 4],
      [1, 2],
      [2, 1],
    ] as const) {
      const res = await raw(`?speed=${speed}&duration_ms=2000`);
      assert.equal(res.status, 200);
      const { durationSeconds } = mp4Info(Buffer.from(await res.arrayBuffer()));
      assert.ok(Math.abs(durationSeconds - seconds) < 0.11, `speed ${speed}: ${durationSeconds} s`);
    }
  });

  test('JSON in, JSON out: the video, its true frame count and an 8-bit grey depth PNG', async () => {
    const res = await fetch(`${gw.url}/v1/image3d/videos`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ image: coffee.toString('base64'), format: 'gif', duration_ms: 1500, speed: 1.5, motion: 'swing' }),
    });
    const body = await expectAnswer(res, Image3dJsonAnswer);
    assert.equal(body.logid, res.headers.get('x-tt-logid'));
    assert.equal(body.mime_type, 'image/gif');
    const gif = gifInfo(Buffer.from(body.video, 'base64'));
    assert.equal(gif.frames, body.frame_count);
    assert.equal(gif.frames, 20); // 1.5 s / 1.5 × 20 fps
    assert.equal(gif.totalDelayMs, 1000);
    const depth = pngInfo(Buffer.from(body.depth_png, 'base64'));
    assert.deepEqual(depth, { width: gif.width, height: gif.height, bitDepth: 8, colourType: 0 });
    assert.ok(gif.width <= 240 && Math.abs(gif.width / gif.height - 1.5) < 0.02, `${gif.width}×${gif.height}`);
  });

  test('multipart with option fields gives a GIF download', async () => {
    const form = new FormData();
    form.set('image', new Blob([coffee]), 'coffee.png');
    form.set('format', 'gif');
    form.set('duration_ms', '1000');
    const res = await fetch(`${gw.url}/v1/image3d/videos`, { method: 'POST', body: form });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/gif');
    assert.match(res.headers.get('content-disposition')!, /filename=".+\.gif"/);
    assert.equal(gifInfo(Buffer.from(await res.arrayBuffer())).frames, 20);
  });

  test('the four motions give four different videos', async () => {
    const hashes = new Set<string>();
    for (const motion of ['zoom', 'swing', 'circle', 'dolly_zoom']) {
      const res = await raw(`?motion=${motion}&format=gif&duration_ms=1000`);
      assert.equal(res.status, 200, motion);
      hashes.add(createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex'));
    }
    assert.equal(hashes.size, 4);
  });

  test('a 4096×4096 photo is rendered at a bounded size', async () => {
    const res = await fetch(`${gw.url}/v1/image3d/videos?format=gif&duration_ms=1000`, {
      method: 'POST',
      headers: { 'content-type': 'image/png', accept: 'application/json' },
      body: await flatPng(4096, 4096),
    });
    const body = await expectAnswer(res, Image3dJsonAnswer);
    assert.deepEqual(pngInfo(Buffer.from(body.depth_png, 'base64')).width, 240);
  });
});
