import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../src/errors.js';
import { safeBaseName, unzip } from '../../src/input/zip.js';
import { flatPng } from '../helpers/fixtures.js';
import { lieAboutSize, makeZip, markEncrypted, renameEntry } from '../helpers/zips.js';

const limits = { maxEntries: 50, maxEntryBytes: 8 << 20, maxTotalBytes: 32 << 20, maxRatio: 50, maxTotalRatio: 50 };
const isPng = (_name: string, data: Buffer) => data.subarray(1, 4).toString() === 'PNG';
const fails = (code: string, message: RegExp) => (err: unknown) => err instanceof ApiError && err.code === code && message.test(err.message);

test('entry names are never paths: traversal, absolute, drive letters, backslashes and NUL reduce to base names', () => {
  assert.equal(safeBaseName('../../etc/passwd.png'), 'passwd.png');
  assert.equal(safeBaseName('/abs/a.png'), 'a.png');
  assert.equal(safeBaseName('C:\\\\win\\\\b.png'), 'b.png');
  assert.equal(safeBaseName('C:c.png'), 'c.png');
  assert.equal(safeBaseName('dir\\\\sub\\\\d.png'), 'd.png');
  assert.equal(safeBaseName('e\u0000vil.png'), 'evil.png');
  assert.equal(safeBaseName('photo\u202Egnp.exe'), 'photognp.exe', 'bidi overrides go');
  assert.equal(safeBaseName('a\u200Bb\uFEFF\u0085.png'), 'ab.png', 'zero-width, BOM and C1 characters go');
  assert.equal(safeBaseName('..'), 'file');
  assert.equal(safeBaseName('dir/'), 'file');
});

test('keeps images under safe unique names, skips directories and litter, lists other files', async () => {
  const png = await flatPng(64, 64);
  const built = await makeZip([
    ['set/', Buffer.alloc(0)],
    ['set/one.png', png],
    ['other/one.png', png],
    ['xx/xx/escape.png', png],
    ['XXXwin/drive.png', png],
    ['__MACOSX/set/._one.png', Buffer.from('mac')],
    ['set/.DS_Store', Buffer.from('ds')],
    ['set/Thumbs.db', Buffer.from('tdb')],
    ['set/notes.txt', Buffer.from('hello')],
  ]);
  const zip = renameEntry(renameEntry(built, 'xx/xx/escape.png', '../../escape.png'), 'XXXwin/drive.png', 'C:\\win\\drive.png');
  const { files, skipped } = await unzip(zip, limits, isPng);
  assert.deepEqual(files.map((f) => f.name), ['one.png', 'one-2.png', 'escape.png', 'drive.png']);
  assert.deepEqual(files[0]!.data, png);
  assert.deepEqual(skipped, ['notes.txt']);
});

test('a zip bomb is refused from its header ratio, at once', async () => {
  const zip = await makeZip([['bomb.png', Buffer.alloc(6 << 20)]]);
  assert.ok(zip.length < 100_000);
  const started = Date.now();
  await assert.rejects(unzip(zip, limits, isPng), fails('ARCHIVE_LIMIT_EXCEEDED', /expands \d+ times/));
  assert.ok(Date.now() - started < 500);
});

test('a bomb whose headers lie about its size is stopped while inflating', async () => {
  const zip = lieAboutSize(await makeZip([['bomb.png', Buffer.alloc(40 << 20)]]), 1000);
  await assert.rejects(unzip(zip, limits, isPng), (err: unknown) => err instanceof ApiError && ['ARCHIVE_LIMIT_EXCEEDED', 'INVALID_ARCHIVE'].includes(err.code));
});

test('limits on entry count, entry size and total size', async () => {
  const png = await flatPng(64, 64);
  const many = await makeZip(Array.from({ length: 51 }, (_, i) => [`${i}.png`, png] as [string, Buffer]));
  await assert.rejects(unzip(many, limits, isPng), fails('ARCHIVE_LIMIT_EXCEEDED', /51 entries/));
  const big = await makeZip([['big.png', Buffer.alloc(9 << 20, 7), false]]);
  await assert.rejects(unzip(big, limits, isPng), fails('ARCHIVE_LIMIT_EXCEEDED', /more than 8388608/));
  const total = await makeZip(Array.from({ length: 5 }, (_, i) => [`${i}.png`, Buffer.alloc(7 << 20, i), false] as [string, Buffer, boolean]));
  await assert.rejects(unzip(total, limits, isPng), fails('ARCHIVE_LIMIT_EXCEEDED', /uncompressed/));
});

test('an encrypted entry is refused by name', async () => {
  const zip = markEncrypted(await makeZip([['secret.png', await flatPng(64, 64)]]));
  await assert.rejects(unzip(zip, limits, isPng), fails('ARCHIVE_UNSUPPORTED', /"secret.png" is encrypted/));
});

test('a truncated or corrupt archive is a 400', async () => {
  const zip = await makeZip([['a.png', await flatPng(64, 64)]]);
  await assert.rejects(unzip(zip.subarray(0, zip.length - 30), limits, isPng), fails('INVALID_ARCHIVE', /not a valid zip/));
  await assert.rejects(unzip(Buffer.from('PK\x03\x04 this is not a zip'), limits, isPng), fails('INVALID_ARCHIVE', /not a valid zip/));
  const corrupt = Buffer.from(zip);
  corrupt.fill(0x55, 40, 80); // inside the compressed data
  await assert.rejects(unzip(corrupt, limits, isPng), (err: unknown) => err instanceof ApiError && err.status === 400);
});

test('a stored entry is a view of the archive, not a copy', async () => {
  const png = await flatPng(64, 64);
  const zip = await makeZip([['a.png', png, false]]);
  const { files } = await unzip(zip, limits, isPng);
  assert.deepEqual(files[0]!.data, png);
  assert.equal(files[0]!.data.buffer, zip.buffer);
});

test('a stored entry whose sizes disagree is refused as corrupt, not read past', async () => {
  const zip = lieAboutSize(await makeZip([['a.png', await flatPng(64, 64), false]]), 10);
  await assert.rejects(unzip(zip, limits, isPng), fails('INVALID_ARCHIVE', /size mismatch for stored file/));
});

test('a stored entry said to run past the end of the archive is refused as corrupt', async () => {
  const zip = Buffer.from(await makeZip([['a.png', await flatPng(64, 64), false]]));
  // Both sizes, in both headers, a megabyte more than the archive holds.
  for (const [sig, offsets] of [[0x04034b50, [18, 22]], [0x02014b50, [20, 24]]] as const) {
    for (let at = zip.indexOf(Buffer.from([0x50, 0x4b])); at >= 0; at = zip.indexOf(Buffer.from([0x50, 0x4b]), at + 1)) {
      if (zip.readUInt32LE(at) === sig) for (const o of offsets) zip.writeUInt32LE(1 << 20, at + o);
    }
  }
  await assert.rejects(unzip(zip, limits, isPng), fails('INVALID_ARCHIVE', /corrupt|not a valid zip/));
});
