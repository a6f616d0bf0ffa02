import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import arscan from '../../gen/thrift/arscan_types.js';
import base from '../../gen/thrift/base_types.js';
import { measure } from '../helpers/bounds.js';
import { fakeArscan, type FakeBackend } from '../helpers/fake-backends.js';
import { capturePhotos } from '../helpers/fixtures.js';
import { expectProblem, startGateway, type TestGateway } from '../helpers/gateway.js';
import { compressible, craftZip, makeZip } from '../helpers/zips.js';

const MiB = 2 ** 20;

// Issue 11, row 3 and the zip part of row 14: archives made to inflate far more than they
// weigh, or to smuggle invisible characters into names. Each is refused (or cleaned) before
// it costs memory, and the next honest upload goes through.
describe('hostile zips cost bounded memory and are refused from the central directory', () => {
  let be: FakeBackend<arscan.ReconstructRequest>;
  let gw: TestGateway;
  let photos: Array<[string, Buffer]>;
  before(async () => {
    photos = await capturePhotos();
    const model = await makeZip([['model.glb', Buffer.from('glTF')]]);
    be = await fakeArscan(
      (req) =>
        new arscan.ReconstructResponse({ model_zip: model, model_format: 'glb', vertex_count: 4, images_used: req.images.length, BaseResp: new base.BaseResp({ StatusCode: 0 }) }),
    );
    gw = await startGateway({ ARSCAN_BACKENDS: be.address });
  });
  after(async () => {
    await gw.close();
    await be.close();
  });

  const post = (zip: Buffer) => fetch(`${gw.url}/v1/arscan/models`, { method: 'POST', headers: { 'content-type': 'application/zip' }, body: zip });

  /** The hostile upload is refused as told, costs at most `maxMiB`, reaches no backend; an honest one right after is served. */
  async function refusedCheaply(zip: Buffer, status: number, code: string, message: RegExp, maxMiB = 100): Promise<void> {
    const calls = be.requests.length;
    const { result: body, rssGrowthMiB } = await measure(async () => expectProblem(await post(zip), status, code));
    assert.match(body.message, message);
    assert.ok(body.message.length < 1024, `a bounded answer (${body.message.length} characters)`);
    assert.ok(rssGrowthMiB < maxMiB, `the process grew ${rssGrowthMiB.toFixed(0)} MiB`);
    assert.equal(be.requests.length, calls, 'nothing reached the backend');
    const honest = await post(await makeZip(photos));
    assert.equal(honest.status, 200, await honest.clone().text());
  }

  test('1,000 central-directory entries pointing at one deflated 64 MiB block: 400 naming them, nothing inflated', async () => {
    const names = Array.from({ length: 1000 }, (_, i) => `photo-${String(i).padStart(4, '0')}.jpg`);
    const zip = craftZip([{ name: names[0]!, data: compressible(64 * MiB), deflate: true }], names.map((name) => ({ name, local: 0 })));
    assert.ok(zip.length < MiB, `a ${zip.length}-byte upload`);
    await refusedCheaply(zip, 400, 'INVALID_ARCHIVE', /entries "photo-0000.jpg", "photo-0001.jpg", .* and 995 more share their bytes/);
  });

  test('an entry whose bytes run into the next entry\'s: 400 naming both', async () => {
    const [[, a], [, b], [, c]] = photos as [[string, Buffer], [string, Buffer], [string, Buffer]];
    const zip = craftZip(
      [{ name: 'a.png', data: a }, { name: 'b.png', data: b }, { name: 'c.png', data: c }],
      [{ name: 'a.png', local: 0, extend: 40 }, { name: 'b.png', local: 1 }, { name: 'c.png', local: 2 }],
    );
    await refusedCheaply(zip, 400, 'INVALID_ARCHIVE', /entries "a.png", "b.png" share their bytes/);
  });

  test('15 entries side by side, each under the ratio limit, inflating to 60 MiB from under 1 MB: 413 before inflating', async () => {
    const data = compressible(4 * MiB);
    const zip = craftZip(Array.from({ length: 15 }, (_, i) => ({ name: `p${i}.jpg`, data, deflate: true })));
    assert.ok(zip.length < MiB, `a ${zip.length}-byte upload`);
    await refusedCheaply(zip, 413, 'ARCHIVE_LIMIT_EXCEEDED', /more than 10 times the \d+-byte archive/, 30);
  });

  test('a thousand skipped entries with long names: X-Skipped-Entries stays readable (it was a 700 KB header no common client could read)', async () => {
    const names = Array.from({ length: 990 }, (_, i) => `${String(i).padStart(3, '0')}-${'é'.repeat(120)}.txt`);
    const zip = await makeZip([...photos.slice(0, 3), ...names.map((n): [string, Buffer] => [n, Buffer.from('x')])]);
    const res = await post(zip);
    assert.equal(res.status, 200);
    const header = res.headers.get('x-skipped-entries')!;
    assert.ok(header.length <= 4096, `${header.length} bytes`);
    const [listed, more] = [header.split(', ').filter((n) => !n.startsWith('+')), /, \+(\d+) more$/.exec(header)?.[1]];
    assert.ok(listed.length > 0);
    assert.deepEqual(listed.map(decodeURIComponent), names.slice(0, listed.length));
    assert.equal(Number(more), names.length - listed.length);
    const json = await (await fetch(`${gw.url}/v1/arscan/models`, { method: 'POST', headers: { 'content-type': 'application/zip', accept: 'application/json' }, body: zip })).json();
    assert.deepEqual((json as { skipped: string[] }).skipped, names, 'the JSON answer names them all');
  });

  test('an entry compressed with bzip2 or LZMA is 422 ARCHIVE_UNSUPPORTED naming it and its method (it was 400 "corrupt")', async () => {
    for (const method of [12, 14]) {
      const zip = craftZip([...photos.map(([name, data]) => ({ name, data })), { name: 'extra.png', data: Buffer.alloc(100, 1), method }]);
      assert.match((await expectProblem(await post(zip), 422, 'ARCHIVE_UNSUPPORTED')).message, new RegExp(`"extra.png" is compressed with method ${method}`));
    }
  });

  test('bidi overrides and other invisible characters in entry names: gone from the names the backend gets', async () => {
    const zip = craftZip([
      { name: 'set/le\u202Eft.png', data: photos[0]![1] },
      { name: 'mid\u200Bdle\u2066.png', data: photos[1]![1] },
      { name: '\uFEFFright\u0085.png', data: photos[2]![1] },
      { name: 'read\u202Eme.txt', data: Buffer.from('hello') },
    ]);
    const res = await post(zip);
    assert.equal(res.status, 200);
    assert.deepEqual(be.requests.at(-1)!.images.map((i) => i.name), ['left.png', 'middle.png', 'right.png']);
    assert.equal(res.headers.get('x-skipped-entries'), 'readme.txt');
  });
});
