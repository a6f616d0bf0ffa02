import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fakeKeypoint, ok } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import { startGateway } from '../helpers/gateway.js';

const form = (image: Buffer) => {
  const body = new FormData();
  body.append('image', new Blob([image], { type: 'image/png' }), 'photo.png');
  return body;
};

test('a multipart image is read into a pooled buffer, as a raw one is, and each arrives whole', async (t) => {
  const be = await fakeKeypoint(() => ok());
  t.after(() => be.close());
  const gw = await startGateway({ KEYPOINT_BACKENDS: be.address });
  t.after(() => gw.close());
  // Three photos of 240-790 KB: each above the pool's 64 KiB, none of the same size.
  const photos = ['chelsea.png', 'coffee.png', 'astronaut.png'].map(fixture);
  const send = (image: Buffer) => fetch(`${gw.url}/v1/keypoints`, { method: 'POST', body: form(image) });
  // One after another (each later one may take an earlier one's buffer), then all at once.
  for (const batch of [[photos[0]!], [photos[1]!], [photos[2]!], photos, [...photos].reverse()]) {
    const before = be.requests.length;
    const answers = await Promise.all(batch.map(send));
    assert.deepEqual(answers.map((r) => r.status), batch.map(() => 200));
    const received = be.requests.slice(before).map((r) => Buffer.from(r.image).toString('base64'));
    for (const photo of batch) assert.ok(received.includes(photo.toString('base64')), 'the photo arrived as sent');
  }
  assert.ok(gw.app.bufferPool.idleBufferBytes > 0, 'the parts were read into buffers of the pool, given back once answered');
});
