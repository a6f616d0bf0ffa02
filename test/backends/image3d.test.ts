import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import image3d from '../../gen/thrift/image3d_types.js';
import { startImage3dBackend } from '../../src/backends/image3d/server.js';
import type { RunningServer } from '../../src/shared/thrift-server.js';
import type { RpcClient } from '../../src/rpc/rpc-client.js';
import { fixture, flatPng } from '../helpers/fixtures.js';
import { causeOf, ctx, rpcClient } from '../helpers/rpc.js';

describe('the reference image3d backend, called over Thrift', () => {
  let backend: RunningServer;
  let rpc: RpcClient;
  before(async () => {
    backend = await startImage3dBackend({ host: '127.0.0.1', port: 0, transport: 'framed', protocol: 'binary', maxFrameBytes: 64 << 20 });
    rpc = rpcClient({ IMAGE3D_BACKENDS: `127.0.0.1:${backend.port}`, IMAGE3D_TIMEOUT_MS: '60000', IMAGE3D_MAX_CONNECTIONS: '4' });
  });
  after(async () => {
    rpc.close();
    await backend.close();
  });

  const render = (fields: Partial<image3d.RenderRequest>) =>
    rpc.call('image3d', 'Render', new image3d.RenderRequest({ image: fixture('coffee.png'), ...fields }), ctx());

  const statusOf = (fields: Partial<image3d.RenderRequest>) => causeOf(render(fields));

  test('refuses what the IDL refuses, with its status codes', async () => {
    assert.match(await statusOf({ image: Buffer.from('not an image') }), /StatusCode 1002/);
    assert.match(await statusOf({ image: await flatPng(63, 64) }), /StatusCode 1003/);
    assert.match(await statusOf({ image: await flatPng(4097, 64) }), /StatusCode 1003/);
    assert.match(await statusOf({ speed: 4.5 }), /StatusCode 1001/);
    assert.match(await statusOf({ duration_ms: 500 }), /StatusCode 1001/);
    assert.match(await statusOf({ video_format: 'webm' }), /StatusCode 1001/);
    assert.match(await statusOf({ motion: 9 as image3d.CameraMotion }), /StatusCode 1001/);
  });

  test('a long render runs off the event loop: other calls are answered meanwhile', async () => {
    const long = render({ duration_ms: 10000, speed: 0.25 });
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    assert.match(await statusOf({ speed: 9 }), /StatusCode 1001/);
    const quick = Date.now() - started;
    const res = await long;
    assert.equal(res.frame_count, 800);
    assert.ok(quick < 1000, `a quick call took ${quick} ms during a long render`);
  });
});
