import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import keypoint from '../../gen/thrift/keypoint_types.js';
import { startKeypointBackend } from '../../src/backends/keypoint/server.js';
import type { RunningServer } from '../../src/shared/thrift-server.js';
import type { RpcClient } from '../../src/rpc/rpc-client.js';
import { fixture, flatPng, groupPhoto } from '../helpers/fixtures.js';
import { causeOf, ctx, rpcClient } from '../helpers/rpc.js';

describe('the reference keypoint backend, called over Thrift', () => {
  let backend: RunningServer;
  let rpc: RpcClient;
  before(async () => {
    backend = await startKeypointBackend({ host: '127.0.0.1', port: 0, transport: 'framed', protocol: 'binary', maxFrameBytes: 64 << 20 });
    // Group photos take seconds on a loaded 2-core machine: no deadline is under test here.
    rpc = rpcClient({ KEYPOINT_BACKENDS: `127.0.0.1:${backend.port}`, KEYPOINT_TIMEOUT_MS: '170000' });
  });
  after(async () => {
    rpc.close();
    await backend.close();
  });

  const detect = (image: Buffer, max_faces?: number) =>
    rpc.call('keypoint', 'Detect', new keypoint.DetectRequest({ image, ...(max_faces === undefined ? {} : { max_faces }) }), ctx());

  const status = (image: Buffer, max_faces?: number) => causeOf(detect(image, max_faces));

  const inside = ([x, y]: [number, number], r: keypoint.Rect) => x >= r.left && x <= r.left + r.width && y >= r.top && y <= r.top + r.height;
  const xy = (p: keypoint.Point): [number, number] => [p.x, p.y];

  test('one face on astronaut.png: 106 landmarks inside its box, and its pose', async () => {
    const res = await detect(fixture('astronaut.png'));
    assert.equal(res.BaseResp.StatusCode, 0);
    assert.equal(res.image_width, 512);
    assert.equal(res.image_height, 512);
    assert.equal(res.faces!.length, 1);
    const [face] = res.faces!;
    assert.equal(face!.landmarks.length, 106);
    assert.ok(face!.landmarks.every((p) => inside(xy(p), face!.rect)));
    assert.ok(face!.score >= 0.5 && face!.score <= 1);
    // She faces the camera, head nearly upright.
    assert.ok(Math.abs(face!.yaw!) < 10 && Math.abs(face!.roll!) < 10 && Math.abs(face!.pitch!) < 25, `${face!.yaw} ${face!.pitch} ${face!.roll}`);
  });

  test('photos without a person give no face', async () => {
    for (const name of ['chelsea.png', 'coffee.png', 'motorcycle_left.png']) {
      const res = await detect(fixture(name), 10);
      assert.deepEqual(res.faces, [], name);
    }
    assert.deepEqual((await detect(await flatPng(640, 480), 10)).faces, []);
  });

  test('every face of a group photo, largest first, each with its own landmarks', async () => {
    for (const [n, people] of [[1, 3], [4, 4], [5, 5]] as const) {
      const { faces } = await detect(groupPhoto(n), 10);
      assert.equal(faces!.length, people, `sample${n}.jpg`);
      const areas = faces!.map((f) => f.rect.width * f.rect.height);
      assert.deepEqual(areas, [...areas].sort((a, b) => b - a));
      for (const f of faces!) {
        assert.ok(f.landmarks.every((p) => inside(xy(p), f.rect)));
        // No two faces share a pupil: each is a face of its own.
        for (const g of faces!) if (g !== f) assert.ok(!inside(xy(f.landmarks[59]!), g.rect));
      }
    }
  });

  test('max_faces is honoured: 2 of the 5 people', async () => {
    const all = (await detect(groupPhoto(5), 10)).faces!;
    const two = (await detect(groupPhoto(5), 2)).faces!;
    assert.equal(two.length, 2);
    for (const f of two) assert.ok(all.some((g) => Math.abs(g.rect.left - f.rect.left) < 2 && Math.abs(g.rect.top - f.rect.top) < 2));
    assert.equal((await detect(groupPhoto(5), 1)).faces!.length, 1);
  });

  test('a slow detection does not hold up the calls that need no model', async () => {
    let slowDone = false;
    const slow = Promise.all([detect(groupPhoto(5), 10), detect(groupPhoto(4), 10)]).then((answers) => {
      slowDone = true;
      return answers;
    });
    assert.match(await status(fixture('coffee.png'), 11), /StatusCode 1001/);
    assert.match(await status(Buffer.from('not an image')), /StatusCode 1002/);
    assert.equal(slowDone, false, 'refusals answered while the model was busy');
    const [five, four] = await slow;
    assert.deepEqual([five.faces!.length, four.faces!.length], [5, 4]);
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
});
