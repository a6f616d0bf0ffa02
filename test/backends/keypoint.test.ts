import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import keypoint from '../../gen/thrift/keypoint_types.js';
import { MEAN_FACE } from '../../src/backends/keypoint/mean-face.js';
import { startKeypointBackend } from '../../src/backends/keypoint/server.js';
import type { RunningServer } from '../../src/backends/thrift-server.js';
import type { RpcClient } from '../../src/rpc/rpc-client.js';
import { fixture, flatPng } from '../helpers/fixtures.js';
import { causeOf, ctx, rpcClient } from '../helpers/rpc.js';

describe('the reference keypoint backend, called over Thrift', () => {
  let backend: RunningServer;
  let rpc: RpcClient;
  before(async () => {
    backend = await startKeypointBackend({ host: '127.0.0.1', port: 0, transport: 'framed', protocol: 'binary', maxFrameBytes: 64 << 20 });
    rpc = rpcClient({ KEYPOINT_BACKENDS: `127.0.0.1:${backend.port}` });
  });
  after(async () => {
    rpc.close();
    await backend.close();
  });

  const detect = (image: Buffer, max_faces?: number) =>
    rpc.call('keypoint', 'Detect', new keypoint.DetectRequest({ image, ...(max_faces === undefined ? {} : { max_faces }) }), ctx());

  const status = (image: Buffer, max_faces?: number) => causeOf(detect(image, max_faces));

  test('one face on astronaut.png with 106 landmarks, sizes from the image', async () => {
    const res = await detect(fixture('astronaut.png'));
    assert.equal(res.BaseResp.StatusCode, 0);
    assert.equal(res.image_width, 512);
    assert.equal(res.image_height, 512);
    assert.equal(res.faces!.length, 1);
    assert.equal(res.faces![0]!.landmarks.length, 106);
  });

  test('undecodable bytes: StatusCode 1002', async () => {
    assert.match(await status(Buffer.from('definitely not an image')), /StatusCode 1002/);
  });

  test('an image under 32 pixels a side: StatusCode 1003', async () => {
    assert.match(await status(await flatPng(16, 64)), /StatusCode 1003/);
  });

  test('max_faces outside 1..10: StatusCode 1001', async () => {
    assert.match(await status(fixture('coffee.png'), 11), /StatusCode 1001/);
  });

  test('the mean face has 106 distinct points, mirror-symmetric about the box centre', () => {
    assert.equal(MEAN_FACE.length, 106);
    assert.equal(new Set(MEAN_FACE.map(([x, y]) => `${x.toFixed(4)},${y.toFixed(4)}`)).size, 106);
    const xs = MEAN_FACE.map(([x]) => x);
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 1e-9);
    // Chin (16) below the mouth, eyes above the nose tip.
    assert.ok(MEAN_FACE[16]![1] > MEAN_FACE[86]![1]);
    assert.ok(MEAN_FACE[59]![1] < MEAN_FACE[74]![1]);
  });
});
