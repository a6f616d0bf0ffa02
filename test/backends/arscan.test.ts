import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NodeIO } from '@gltf-transform/core';
import sharp from 'sharp';
import arscan from '../../gen/thrift/arscan_types.js';
import { startArscanBackend } from '../../src/backends/arscan/server.js';
import type { RunningServer } from '../../src/shared/thrift-server.js';
import { unzip } from '../../src/input/zip.js';
import type { RpcClient } from '../../src/rpc/rpc-client.js';
import { capturePhotos, flatPng } from '../helpers/fixtures.js';
import { causeOf, ctx, rpcClient } from '../helpers/rpc.js';

const limits = { maxEntries: 10, maxEntryBytes: 64 << 20, maxTotalBytes: 64 << 20, maxRatio: 1000, maxTotalRatio: 1000 };

describe('the reference arscan backend, called over Thrift', () => {
  let backend: RunningServer;
  let rpc: RpcClient;
  let photos: arscan.CaptureImage[];
  before(async () => {
    backend = await startArscanBackend({ host: '127.0.0.1', port: 0, transport: 'framed', protocol: 'binary', maxFrameBytes: 256 << 20 });
    rpc = rpcClient({ ARSCAN_BACKENDS: `127.0.0.1:${backend.port}` });
    photos = (await capturePhotos()).map(([, data], i) => new arscan.CaptureImage({ name: `view-${i}.png`, data }));
  });
  after(async () => {
    rpc.close();
    await backend.close();
  });

  const reconstruct = (fields: Partial<arscan.ReconstructRequest>) =>
    rpc.call('arscan', 'Reconstruct', new arscan.ReconstructRequest({ images: photos, ...fields }), ctx());

  test('glb: a valid binary glTF 2.0 whose mesh has vertices and uses its embedded texture', async () => {
    const res = await reconstruct({ model_format: 'glb', texture_size: 512 });
    assert.equal(res.model_format, 'glb');
    assert.equal(res.images_used, 3);
    const { files } = await unzip(res.model_zip!, limits, () => true);
    assert.deepEqual(files.map((f) => f.name), ['model.glb']);
    const glb = files[0]!.data;
    assert.equal(glb.toString('latin1', 0, 4), 'glTF');
    assert.equal(glb.readUInt32LE(4), 2);
    const doc = await new NodeIO().readBinary(new Uint8Array(glb));
    const root = doc.getRoot();
    const prim = root.listMeshes()[0]!.listPrimitives()[0]!;
    assert.equal(prim.getAttribute('POSITION')!.getCount(), res.vertex_count);
    assert.equal(res.vertex_count, 12);
    assert.ok(prim.getAttribute('TEXCOORD_0'));
    const texture = prim.getMaterial()!.getBaseColorTexture()!;
    assert.equal(texture.getMimeType(), 'image/jpeg');
    const atlas = await sharp(Buffer.from(texture.getImage()!)).metadata();
    assert.deepEqual([atlas.format, atlas.width, atlas.height], ['jpeg', 512, 512]);
  });

  test('obj: an OBJ that names its MTL, an MTL that names its texture, and the texture', async () => {
    const res = await reconstruct({ model_format: 'obj', texture_size: 256 });
    const { files } = await unzip(res.model_zip!, limits, () => true);
    const byName = new Map(files.map((f) => [f.name, f.data]));
    assert.deepEqual([...byName.keys()].sort(), ['atlas.jpg', 'model.mtl', 'model.obj']);
    const obj = byName.get('model.obj')!.toString();
    assert.match(obj, /^mtllib model\.mtl$/m);
    assert.equal(obj.match(/^v /gm)!.length, res.vertex_count);
    assert.equal(obj.match(/^vt /gm)!.length, res.vertex_count);
    assert.equal(obj.match(/^f /gm)!.length, 6);
    assert.match(byName.get('model.mtl')!.toString(), /^map_Kd atlas\.jpg$/m);
    assert.equal((await sharp(byName.get('atlas.jpg')!).metadata()).width, 256);
  });

  const status = (fields: Partial<arscan.ReconstructRequest>) => causeOf(reconstruct(fields));

  test('refuses what the IDL refuses, with its status codes', async () => {
    assert.match(await status({ images: photos.slice(0, 2) }), /StatusCode 1004/);
    assert.match(await status({ images: [...photos.slice(0, 2), new arscan.CaptureImage({ name: 'x.png', data: Buffer.from('junk') })] }), /StatusCode 1002/);
    assert.match(await status({ images: [...photos.slice(0, 2), new arscan.CaptureImage({ name: 'x.png', data: await flatPng(63, 63) })] }), /StatusCode 1003/);
    assert.match(await status({ texture_size: 100 }), /StatusCode 1001/);
    assert.match(await status({ model_format: 'fbx' }), /StatusCode 1001/);
    const wide = new arscan.CaptureImage({ name: 'wide.png', data: await flatPng(1000, 100) });
    assert.match(await status({ images: [...photos.slice(0, 2), wide] }), /StatusCode 1005/);
  });
});
