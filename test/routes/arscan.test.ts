import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import arscan from '../../gen/thrift/arscan_types.js';
import base from '../../gen/thrift/base_types.js';
import { startArscanBackend } from '../../src/backends/arscan/server.js';
import type { RunningServer } from '../../src/shared/thrift-server.js';
import { unzip } from '../../src/input/zip.js';
import { ArscanJsonAnswer } from '../../src/schemas/arscan.js';
import { fakeArscan, type FakeBackend } from '../helpers/fake-backends.js';
import { capturePhotos, flatPng } from '../helpers/fixtures.js';
import { expectAnswer, expectProblem, refusedBeforeBackend, startGateway, type TestGateway } from '../helpers/gateway.js';
import { makeZip, markEncrypted, renameEntry } from '../helpers/zips.js';

const MiB = 1024 * 1024;
const readZip = (zip: Buffer) => unzip(zip, { maxEntries: 10, maxEntryBytes: 256 * MiB, maxTotalBytes: 256 * MiB, maxRatio: 10_000, maxTotalRatio: 10_000 }, () => true);

let photos: Array<[string, Buffer]>;
before(async () => {
  photos = await capturePhotos();
});

describe('POST /v1/arscan/models against the reference backend', () => {
  let backend: RunningServer;
  let gw: TestGateway;
  before(async () => {
    backend = await startArscanBackend({ host: '127.0.0.1', port: 0, transport: 'framed', protocol: 'binary', maxFrameBytes: 512 * MiB });
    gw = await startGateway({ ARSCAN_BACKENDS: `127.0.0.1:${backend.port}` });
  });
  after(async () => {
    await gw.close();
    await backend.close();
  });

  async function modelFrom(res: Response): Promise<string[]> {
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('content-type'), 'application/zip');
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="${res.headers.get('x-tt-logid')}.zip"`);
    const { files } = await readZip(Buffer.from(await res.arrayBuffer()));
    return files.map((f) => f.name).sort();
  }

  test('a raw zip, with litter and a text file skipped and named', async () => {
    const zip = await makeZip([...photos, ['__MACOSX/._left.png', Buffer.from('x')], ['notes.txt', Buffer.from('hello')], ['set/.DS_Store', Buffer.from('x')]]);
    const res = await fetch(`${gw.url}/v1/arscan/models?format=obj&texture_size=256`, { method: 'POST', headers: { 'content-type': 'application/zip' }, body: zip });
    assert.equal(res.headers.get('x-skipped-entries'), 'notes.txt');
    assert.deepEqual(await modelFrom(res), ['atlas.jpg', 'model.mtl', 'model.obj']);
  });

  test('multipart: an archive file and option fields', async () => {
    const form = new FormData();
    form.set('archive', new Blob([await makeZip(photos)]), 'set.zip');
    form.set('texture_size', '256');
    assert.deepEqual(await modelFrom(await fetch(`${gw.url}/v1/arscan/models`, { method: 'POST', body: form })), ['model.glb']);
  });

  test('multipart: several images files', async () => {
    const form = new FormData();
    for (const [name, data] of photos) form.append('images', new Blob([data]), name);
    form.set('format', 'obj');
    assert.deepEqual(await modelFrom(await fetch(`${gw.url}/v1/arscan/models`, { method: 'POST', body: form })), ['atlas.jpg', 'model.mtl', 'model.obj']);
  });

  test('multipart: the file field left empty is as if absent (Swagger UI sends it; was refused as an unknown field)', async () => {
    const withArchive = new FormData();
    withArchive.set('archive', new Blob([await makeZip(photos)]), 'set.zip');
    withArchive.set('images', '');
    assert.deepEqual(await modelFrom(await fetch(`${gw.url}/v1/arscan/models`, { method: 'POST', body: withArchive })), ['model.glb']);
    const withImages = new FormData();
    withImages.set('archive', '');
    for (const [name, data] of photos) withImages.append('images', new Blob([data]), name);
    assert.deepEqual(await modelFrom(await fetch(`${gw.url}/v1/arscan/models`, { method: 'POST', body: withImages })), ['model.glb']);
  });

  test('JSON images list, answered as JSON', async () => {
    const res = await fetch(`${gw.url}/v1/arscan/models`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ images: photos.map(([name, data]) => ({ name, data: data.toString('base64') })), texture_size: 512 }),
    });
    const body = await expectAnswer(res, ArscanJsonAnswer);
    assert.equal(body.logid, res.headers.get('x-tt-logid'));
    assert.deepEqual([body.format, body.vertex_count, body.images_used], ['glb', 12, 3]);
    const { files } = await readZip(Buffer.from(body.model_zip, 'base64'));
    assert.equal(files[0]!.data.toString('latin1', 0, 4), 'glTF');
  });

  test('JSON archive (a base64 zip)', async () => {
    const res = await fetch(`${gw.url}/v1/arscan/models?texture_size=256`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ archive: (await makeZip(photos)).toString('base64') }),
    });
    assert.deepEqual(await modelFrom(res), ['model.glb']);
  });

  test('a 50 MB capture set, uploaded as multipart, end to end', async () => {
    const noise = () => sharp(randomBytes(2500 * 2500 * 3), { raw: { width: 2500, height: 2500, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
    const big = await Promise.all([noise(), noise(), noise()]);
    const size = big.reduce((n, b) => n + b.length, 0);
    assert.ok(size > 50 * MiB, `${size} bytes`);
    const form = new FormData();
    big.forEach((data, i) => form.append('images', new Blob([data]), `noise-${i}.png`));
    form.set('texture_size', '1024');
    assert.deepEqual(await modelFrom(await fetch(`${gw.url}/v1/arscan/models`, { method: 'POST', body: form })), ['model.glb']);
  });
});

describe('POST /v1/arscan/models refuses bad capture sets before calling the backend', () => {
  let be: FakeBackend<arscan.ReconstructRequest>;
  let gw: TestGateway;
  before(async () => {
    be = await fakeArscan(() => new arscan.ReconstructResponse({ BaseResp: new base.BaseResp({ StatusCode: 1005, StatusMessage: 'no' }) }));
    gw = await startGateway({ ARSCAN_BACKENDS: be.address, MAX_ARCHIVE_BYTES: String(20 * MiB), ARCHIVE_MAX_RATIO: '50' });
  });
  after(async () => {
    await gw.close();
    await be.close();
  });

  const refused = (body: Buffer | string, type: string, status: number, code: string, message?: RegExp, query = '') =>
    refusedBeforeBackend(be, () => fetch(`${gw.url}/v1/arscan/models${query}`, { method: 'POST', headers: { 'content-type': type }, body }), status, code, message);
  const zipType = 'application/zip';

  test('a zip bomb: 413 at once', async () => {
    // Built before the clock starts: deflating 30 MiB is the test's own work.
    const bomb = await makeZip([...photos, ['bomb.png', Buffer.alloc(30 * MiB)]]);
    // "expands" is the refusal from the sizes the zip declares, before anything is inflated; the
    // time bound only catches a return to inflating it (seconds on a loaded 2-core machine).
    const started = Date.now();
    await refused(bomb, zipType, 413, 'ARCHIVE_LIMIT_EXCEEDED', /expands/);
    assert.ok(Date.now() - started < 5000);
  });
  test('an encrypted entry: 422 naming it', async () => refused(markEncrypted(await makeZip(photos)), zipType, 422, 'ARCHIVE_UNSUPPORTED', /"left.png" is encrypted/));
  test('a truncated zip: 400', async () => refused((await makeZip(photos)).subarray(0, 5000), zipType, 400, 'INVALID_ARCHIVE'));
  test('traversal names become base names, and duplicates unique', async () => {
    const zip = renameEntry(await makeZip([['aa/left.png', photos[0]![1]], ['bb/left.png', photos[1]![1]], ['xx/xx/right.png', photos[2]![1]]]), 'xx/xx/right.png', '../../right.png');
    const res = await fetch(`${gw.url}/v1/arscan/models`, { method: 'POST', headers: { 'content-type': zipType }, body: zip });
    assert.equal(res.status, 422); // the fake backend's 1005
    assert.deepEqual(be.requests.at(-1)!.images.map((i) => i.name), ['left.png', 'left-2.png', 'right.png']);
  });
  test('a HEIC photo in the set: 415 naming the file', async () => {
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic\0\0\0\0mif1heic')]);
    await refused(await makeZip([...photos, ['IMG_0001.HEIC', heic]]), zipType, 415, 'UNSUPPORTED_IMAGE_FORMAT', /^"IMG_0001\.HEIC" is a HEIC image; only JPEG and PNG are accepted\.$/);
  });
  test('a photo under 64 pixels: 422 naming the file', async () => refused(await makeZip([...photos, ['tiny.png', await flatPng(63, 80)]]), zipType, 422, 'IMAGE_DIMENSIONS_UNSUPPORTED', /tiny.png/));
  test('two images: 422', async () => refused(await makeZip(photos.slice(0, 2)), zipType, 422, 'NOT_ENOUGH_IMAGES', /2 usable images/));
  test('over MAX_ARCHIVE_BYTES: 413 from Content-Length', async () => refused(Buffer.alloc(21 * MiB), zipType, 413, 'PAYLOAD_TOO_LARGE'));
  test('texture_size and format out of range: 400', async () => {
    const zip = await makeZip(photos);
    await refused(zip, zipType, 400, 'INVALID_ARGUMENT', /"texture_size" must be an integer from 256 to 4096/, '?texture_size=100');
    await refused(zip, zipType, 400, 'INVALID_ARGUMENT', /"format" must be one of glb, obj/, '?format=fbx');
  });
  test('a query parameter given twice is refused as on the other routes (arscan said "format" must be one of glb, obj)', async () => {
    await refused(await makeZip(photos), zipType, 400, 'INVALID_ARGUMENT', /^Query parameter "format" is given more than once\.$/, '?format=glb&format=glb');
  });
  test('a bad option is refused before anything is unzipped or decoded (it was checked after: a zip bomb was its 413)', async () => {
    // Each would be refused for its payload once decoded: a zip that expands past the limits,
    // base64 that is not, a photo that is not one. The option's 400 comes first.
    const bomb = await makeZip([...photos, ['bomb.png', Buffer.alloc(30 * MiB)]]);
    const format = /"format" must be one of glb, obj/;
    await refused(bomb, zipType, 400, 'INVALID_ARGUMENT', format, '?format=fbx');
    await refused(JSON.stringify({ archive: 'not base64!', format: 'fbx' }), 'application/json', 400, 'INVALID_ARGUMENT', format);
    await refused(JSON.stringify({ images: [{ name: 'a.png', data: 'not base64!' }], format: 'fbx' }), 'application/json', 400, 'INVALID_ARGUMENT', format);
    // Multipart: the option field after the archive, as Swagger UI and curl -F send them.
    const form = new FormData();
    form.set('archive', new Blob([bomb]), 'set.zip');
    form.set('format', 'fbx');
    await refusedBeforeBackend(be, () => fetch(`${gw.url}/v1/arscan/models`, { method: 'POST', body: form }), 400, 'INVALID_ARGUMENT', format);
    const photosForm = new FormData();
    photosForm.append('images', new Blob([Buffer.from('not a photo')]), 'a.png');
    photosForm.set('format', 'fbx');
    await refusedBeforeBackend(be, () => fetch(`${gw.url}/v1/arscan/models`, { method: 'POST', body: photosForm }), 400, 'INVALID_ARGUMENT', format);
    // The same bodies with a good option are refused for what they hold.
    await refused(bomb, zipType, 413, 'ARCHIVE_LIMIT_EXCEEDED', /expands/, '?format=obj');
    await refused(JSON.stringify({ archive: 'not base64!', format: 'obj' }), 'application/json', 400, 'INVALID_BASE64');
  });
  test('JSON with both images and archive, or neither: 400', async () => {
    await refused(JSON.stringify({ images: [], archive: 'UEs=' }), 'application/json', 400, 'INVALID_ARGUMENT', /exactly one/);
    await refused(JSON.stringify({ format: 'glb' }), 'application/json', 400, 'INVALID_ARGUMENT', /exactly one/);
  });
  test('an images[] item with a misspelt or missing member is refused naming it (it was served, the name silently lost)', async () => {
    const items = photos.map(([name, data]) => ({ name, data: data.toString('base64') }));
    const { name: _, ...unnamed } = items[0]!;
    await refused(JSON.stringify({ images: [{ nmae: 'left.png', data: items[0]!.data }, ...items.slice(1)] }), 'application/json', 400, 'INVALID_ARGUMENT', /"images\[0\]\.nmae" is not a known field/);
    await refused(JSON.stringify({ images: [items[0], { ...items[1], rotate: 90 }, items[2]] }), 'application/json', 400, 'INVALID_ARGUMENT', /"images\[1\]\.rotate" is not a known field/);
    await refused(JSON.stringify({ images: [unnamed, ...items.slice(1)] }), 'application/json', 400, 'INVALID_ARGUMENT', /"images\[0\]\.name" must be a string/);
    await refused(JSON.stringify({ images: [{ ...items[0], name: null }, ...items.slice(1)] }), 'application/json', 400, 'INVALID_ARGUMENT', /"images\[0\]\.name" must be a string/);
  });
  test('the backend\'s 1005 maps to 422 RECONSTRUCTION_FAILED', async () => {
    const res = await fetch(`${gw.url}/v1/arscan/models`, { method: 'POST', headers: { 'content-type': zipType }, body: await makeZip(photos) });
    await expectProblem(res, 422, 'RECONSTRUCTION_FAILED');
  });
});

test('big uploads reuse pooled buffers, and each request still sends its own photos', async (t) => {
  const be = await fakeArscan(async () => {
    await sleep(50);
    return new arscan.ReconstructResponse({ model_zip: await makeZip([['model.glb', Buffer.from('glTF')]]), model_format: 'glb', vertex_count: 4, images_used: 3, BaseResp: new base.BaseResp({ StatusCode: 0 }) });
  });
  t.after(() => be.close());
  const gw = await startGateway({ ARSCAN_BACKENDS: be.address });
  t.after(() => gw.close());
  const set = async (seed: number) => {
    const photos = await Promise.all(
      [0, 1, 2].map(async (i) => [`p${i}.png`, await sharp(randomBytes(700 * 700 * 3), { raw: { width: 700, height: 700, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer()] as [string, Buffer]),
    );
    return { seed, photos, zip: await makeZip(photos.map(([n, d]) => [n, d, false])) };
  };
  const sets = await Promise.all([1, 2, 3, 4].map(set));
  assert.ok(sets.every((s) => s.zip.length > MiB));
  const send = (s: (typeof sets)[number], form: 'raw' | 'json') =>
    fetch(`${gw.url}/v1/arscan/models`, {
      method: 'POST',
      ...(form === 'raw'
        ? { headers: { 'content-type': 'application/zip' }, body: s.zip }
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ archive: s.zip.toString('base64') }) }),
    });
  for (const form of ['raw', 'json'] as const) {
    // One after another (the second takes the first's buffers), then two at once.
    for (const batch of [[sets[0]!], [sets[1]!], [sets[2]!, sets[3]!]]) {
      const before = be.requests.length;
      const answers = await Promise.all(batch.map((s) => send(s, form)));
      assert.deepEqual(answers.map((r) => r.status), batch.map(() => 200));
      const received = be.requests.slice(before).map((r) => r.images.map((i) => i.data.toString('base64')).join());
      for (const s of batch) assert.ok(received.includes(s.photos.map(([, d]) => d.toString('base64')).join()), `${form}: set ${s.seed} arrived whole`);
    }
  }
  assert.ok(gw.app.bufferPool.idleBufferBytes > 0, 'buffers were given back');
});
