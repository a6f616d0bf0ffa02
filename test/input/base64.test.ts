import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { decodeBase64 } from '../../src/input/base64.js';
import { ApiError } from '../../src/errors.js';
import { RawString } from '../../src/input/json-body.js';

test('decodes what Buffer encodes, for every length and padding', async () => {
  for (let n = 1; n < 200; n++) {
    const bytes = randomBytes(n);
    assert.deepEqual(await decodeBase64(bytes.toString('base64'), 'f'), bytes);
  }
});

test('accepts a data URI prefix of any image type', async () => {
  const bytes = randomBytes(30);
  for (const prefix of ['data:image/png;base64,', 'data:image/jpeg;base64,', 'DATA:image/svg+xml;base64,', 'data:;base64,']) {
    assert.deepEqual(await decodeBase64(prefix + bytes.toString('base64'), 'f'), bytes);
  }
});

test('refuses, with the position, whatever Buffer.from would decode leniently', async () => {
  const good = randomBytes(30).toString('base64');
  for (const bad of [
    good.slice(0, 10) + ' ' + good.slice(11),
    good.slice(0, 10) + '\n' + good.slice(11),
    good.slice(0, 10) + '-' + good.slice(11),
    good.slice(0, 10) + '_' + good.slice(11),
    good.slice(0, 10) + 'é' + good.slice(11),
    good.slice(0, 10) + '=' + good.slice(11),
    good.slice(0, -1),
    good + 'A',
    'QQ',
    'QQ=',
    'Q===',
    'QR==',
    'QUJ=',
    'data:image/png;base64,',
    '',
  ]) {
    await assert.rejects(
      decodeBase64(bad, 'image'),
      (err: unknown) => err instanceof ApiError && err.code === 'INVALID_BASE64' && err.message.startsWith('"image" is not valid base64'),
      JSON.stringify(bad),
    );
  }
});

test('a non-ASCII character in a long string kept as bytes is named as itself (it was shown as "Ã", its first byte read as Latin-1)', async () => {
  const good = randomBytes(3000).toString('base64');
  // "é" is one character, and two bytes: in place of one character, or of two bytes.
  for (const value of [good.slice(0, 2000) + 'é' + good.slice(2001), new RawString(Buffer.from(good.slice(0, 2000) + 'é' + good.slice(2002)))]) {
    await assert.rejects(decodeBase64(value, 'image'), (err: unknown) => err instanceof ApiError && /character "é" at position 2000 is not in the standard base64 alphabet/.test(err.message));
  }
});
