import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { ApiError } from '../../src/errors.js';
import { inspectImage } from '../../src/input/image.js';
import { fixture } from '../helpers/fixtures.js';

const range = { min: 32, max: 4096 };

test('reads PNG dimensions from IHDR', () => {
  assert.deepEqual(inspectImage(fixture('chelsea.png'), 'image', range), { format: 'png', width: 451, height: 300 });
});

test('reads JPEG dimensions past EXIF and other segments, baseline and progressive', async () => {
  const src = sharp(fixture('coffee.png'));
  const baseline = await src.clone().jpeg().withMetadata({ exif: { IFD0: { Copyright: 'x'.repeat(3000) } } }).toBuffer();
  const progressive = await src.clone().jpeg({ progressive: true }).toBuffer();
  for (const bytes of [baseline, progressive]) assert.deepEqual(inspectImage(bytes, 'image', range), { format: 'jpeg', width: 600, height: 400 });
});

test('a JPEG whose markers go wrong before a frame header is refused as corrupt', () => {
  const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, ...Array(14).fill(0), 0x12, 0x34]);
  assert.throws(() => inspectImage(bytes, 'image', range), (e: unknown) => e instanceof ApiError && e.code === 'INVALID_IMAGE');
});

test('a JPEG segment length that runs past the end is refused, not read out of bounds', () => {
  const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 0x00]);
  assert.throws(() => inspectImage(bytes, 'image', range), (e: unknown) => e instanceof ApiError && e.code === 'INVALID_IMAGE');
});
