import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startKeypointBackend } from '../../src/backends/keypoint/server.js';
import type { RunningServer } from '../../src/shared/thrift-server.js';
import { fixture } from '../helpers/fixtures.js';
import { EXAMPLE_FACE_JPEG_BASE64 } from '../../src/schemas/examples.js';
import { KeypointsAnswer } from '../../src/schemas/keypoints.js';
import { expectAnswer, startGateway, type TestGateway } from '../helpers/gateway.js';

describe('POST /v1/keypoints against the reference backend', () => {
  let backend: RunningServer;
  let gw: TestGateway;
  before(async () => {
    backend = await startKeypointBackend({ host: '127.0.0.1', port: 0, transport: 'framed', protocol: 'binary', maxFrameBytes: 64 << 20 });
    gw = await startGateway({ KEYPOINT_BACKENDS: `127.0.0.1:${backend.port}` });
  });
  after(async () => {
    await gw.close();
    await backend.close();
  });

  const astronaut = fixture('astronaut.png');

  test('the documented answer example is what the JPEG of "try it out" gets (its first two landmarks)', async () => {
    const res = await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: Buffer.from(EXAMPLE_FACE_JPEG_BASE64, 'base64') });
    const body = await expectAnswer(res, KeypointsAnswer);
    const example = KeypointsAnswer.parse(KeypointsAnswer.meta()!.example);
    const shortened = { ...body, logid: example.logid, faces: body.faces.map((f) => ({ ...f, landmarks: f.landmarks.slice(0, 2) })) };
    assert.deepEqual(shortened, example);
  });

  async function assertOneFaceAroundTheHead(res: Response) {
    const body = await expectAnswer(res, KeypointsAnswer);
    assert.equal(res.headers.get('x-tt-logid'), body.logid);
    assert.deepEqual(body.image, { width: 512, height: 512 });
    assert.equal(body.faces.length, 1);
    const [face] = body.faces;
    // The astronaut's head is roughly x 150..300, y 40..200 of the 512×512 photo.
    const cx = face!.rect.left + face!.rect.width / 2;
    const cy = face!.rect.top + face!.rect.height / 2;
    assert.ok(cx > 180 && cx < 270 && cy > 70 && cy < 170, `face centre ${cx},${cy}`);
    assert.ok(face!.rect.width > 60 && face!.rect.width < 200);
    assert.ok(face!.score > 0 && face!.score <= 1);
    assert.equal(face!.landmarks.length, 106);
    for (const [x, y] of face!.landmarks) {
      assert.ok(x >= face!.rect.left - 1 && x <= face!.rect.left + face!.rect.width + 1);
      assert.ok(y >= face!.rect.top - 1 && y <= face!.rect.top + face!.rect.height * 1.1);
    }
  }

  test('JSON with base64 finds exactly one face on astronaut.png', async () => {
    const res = await fetch(`${gw.url}/v1/keypoints`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image: astronaut.toString('base64') }),
    });
    await assertOneFaceAroundTheHead(res);
  });

  test('JSON with a data URI prefix and max_faces', async () => {
    const res = await fetch(`${gw.url}/v1/keypoints`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image: `data:image/png;base64,${astronaut.toString('base64')}`, max_faces: 3 }),
    });
    await assertOneFaceAroundTheHead(res);
  });

  test('multipart with an image file and a max_faces field', async () => {
    const form = new FormData();
    form.set('image', new Blob([astronaut], { type: 'image/png' }), 'astronaut.png');
    form.set('max_faces', '2');
    const res = await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', body: form });
    await assertOneFaceAroundTheHead(res);
  });

  test('raw image/png body with ?max_faces=', async () => {
    const res = await fetch(`${gw.url}/v1/keypoints?max_faces=1`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: astronaut });
    await assertOneFaceAroundTheHead(res);
  });

  test('raw body sent as application/octet-stream: the bytes decide the format', async () => {
    const res = await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: astronaut });
    await assertOneFaceAroundTheHead(res);
  });

  for (const name of ['chelsea.png', 'coffee.png']) {
    test(`${name} has no human face: 200 with an empty list`, async () => {
      const res = await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: fixture(name) });
      assert.deepEqual((await expectAnswer(res, KeypointsAnswer)).faces, []);
    });
  }

  test('a request X-Tt-Logid is kept, in the header, the body and every log line', async () => {
    const logid = 'partner-trace_42.a';
    const res = await fetch(`${gw.url}/v1/keypoints`, {
      method: 'POST',
      headers: { 'content-type': 'image/png', 'x-tt-logid': logid },
      body: fixture('coffee.png'),
    });
    assert.equal(res.headers.get('x-tt-logid'), logid);
    assert.equal((await expectAnswer(res, KeypointsAnswer)).logid, logid);
    const lines = gw.logs.filter((l) => l.logid === logid);
    assert.ok(lines.some((l) => l.msg === 'backend call'));
    assert.ok(lines.some((l) => l.msg === 'request completed'));
  });
});
