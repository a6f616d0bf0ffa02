import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import base from '../../../gen/thrift/base_types.js';
import image3d from '../../../gen/thrift/image3d_types.js';
import { fakeImage3d, type FakeBackend } from '../../helpers/fake-backends.js';
import { fixture, flatPng } from '../../helpers/fixtures.js';
import { expectProblem, refusedBeforeBackend, startGateway, type TestGateway } from '../../helpers/gateway.js';

// Only the first bytes of a real file (replies are checked for them); the fake backend does not render.
const videos = {
  mp4: Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom, not really a video')]),
  gif: Buffer.from('GIF89a, not really a video'),
};

describe('POST /v1/image3d/videos checks everything before calling the backend', () => {
  let be: FakeBackend<image3d.RenderRequest>;
  let gw: TestGateway;
  let reply: (req: image3d.RenderRequest) => image3d.RenderResponse;
  before(async () => {
    be = await fakeImage3d((req) => reply(req));
    gw = await startGateway({ IMAGE3D_BACKENDS: be.address });
  });
  after(async () => {
    await gw.close();
    await be.close();
  });
  const okReply = (req: image3d.RenderRequest) =>
    new image3d.RenderResponse({
      video: req.video_format === 'gif' ? videos.gif : videos.mp4,
      mime_type: req.video_format === 'gif' ? 'image/gif' : 'video/mp4',
      frame_count: 2,
      depth_png: Buffer.alloc(0),
      BaseResp: new base.BaseResp({ StatusCode: 0 }),
    });

  const refused = (query: string, body: Buffer, status: number, code: string, message?: RegExp) =>
    refusedBeforeBackend(be, () => fetch(`${gw.url}/v1/image3d/videos${query}`, { method: 'POST', headers: { 'content-type': 'image/png' }, body }), status, code, message);

  const coffee = fixture('coffee.png');
  for (const [query, message] of [
    ['?speed=0.2', /"speed" must be a number from 0.25 to 4.0/],
    ['?speed=4.5', /"speed" must be a number from 0.25 to 4.0/],
    ['?speed=fast', /"speed"/],
    ['?motion=spin', /"motion" must be one of zoom, swing, circle, dolly_zoom/],
    ['?duration_ms=999', /"duration_ms" must be an integer from 1000 to 10000/],
    ['?duration_ms=10001', /"duration_ms"/],
    ['?duration_ms=1500.5', /"duration_ms"/],
    ['?format=webm', /"format" must be one of mp4, gif/],
    ['?fps=30', /"fps" is not a known field/],
  ] as const) {
    test(`${query} is a 400 naming the field and its range`, () => refused(query, coffee, 400, 'INVALID_ARGUMENT', message));
  }
  test('63 pixels a side is a 422 (the IDL says 64..4096)', async () => refused('', await flatPng(63, 100), 422, 'IMAGE_DIMENSIONS_UNSUPPORTED', /63×100/));
  test('a GIF photo is a 415 naming it, by the same checks as keypoints', () =>
    refused('', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'), 415, 'UNSUPPORTED_IMAGE_FORMAT', /GIF/));

  test('the options reach the backend as the IDL names them', async () => {
    reply = okReply;
    const res = await fetch(`${gw.url}/v1/image3d/videos?speed=0.25&motion=dolly_zoom&duration_ms=10000&format=gif`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: coffee,
    });
    assert.equal(res.status, 200);
    const req = be.requests.at(-1)!;
    assert.equal(req.speed, 0.25);
    assert.equal(req.motion, image3d.CameraMotion.DOLLY_ZOOM);
    assert.equal(req.duration_ms, 10000);
    assert.equal(req.video_format, 'gif');
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), videos.gif);
  });

  test('defaults: speed 1, zoom, 3000 ms, mp4', async () => {
    reply = okReply;
    await fetch(`${gw.url}/v1/image3d/videos`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: coffee });
    const req = be.requests.at(-1)!;
    assert.deepEqual([req.speed, req.motion, req.duration_ms, req.video_format], [1, image3d.CameraMotion.ZOOM, 3000, 'mp4']);
  });

  test('Accept: application/json beside */* answers JSON; */* alone the file', async () => {
    reply = okReply;
    const post = (accept: string) => fetch(`${gw.url}/v1/image3d/videos`, { method: 'POST', headers: { 'content-type': 'image/png', accept }, body: coffee });
    assert.match((await post('application/json, */*;q=0.5')).headers.get('content-type')!, /^application\/json/);
    assert.equal((await post('*/*')).headers.get('content-type'), 'video/mp4');
    assert.equal((await post('video/mp4, application/json;q=0.9')).headers.get('content-type'), 'video/mp4');
  });

  test('a backend status code maps through the catalogue', async () => {
    reply = () => new image3d.RenderResponse({ BaseResp: new base.BaseResp({ StatusCode: 1002, StatusMessage: 'cannot decode' }) });
    const res = await fetch(`${gw.url}/v1/image3d/videos`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: coffee });
    await expectProblem(res, 422, 'IMAGE_UNDECODABLE');
  });

  test('a backend answering another format than asked is a 502', async () => {
    reply = (req) => ({ ...okReply(req), mime_type: 'video/webm' }) as image3d.RenderResponse;
    const res = await fetch(`${gw.url}/v1/image3d/videos`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: coffee });
    await expectProblem(res, 502, 'BACKEND_PROTOCOL_ERROR');
  });
});
