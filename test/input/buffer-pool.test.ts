import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { BufferPool } from '../../src/input/buffer-pool.js';

const MiB = 1024 * 1024;

test('a big buffer given back serves the next lease of a similar size; a small one is never pooled', (t) => {
  const pool = new BufferPool(MiB, 64 * MiB, 60_000);
  t.after(() => pool.close());
  const first = pool.lease(3 * MiB + 5);
  assert.equal(first.buffer.length, 3 * MiB + 5);
  first.release();
  first.release(); // twice is harmless
  assert.equal(pool.idleBufferBytes, 4 * MiB, 'rounded up to whole MiB, kept once');
  const second = pool.lease(3 * MiB + 100);
  assert.ok(second.buffer.buffer === first.buffer.buffer, 'the same memory');
  assert.equal(pool.idleBufferBytes, 0);
  // Not a buffer more than a quarter larger than needed.
  second.release();
  const small = pool.lease(2 * MiB);
  assert.ok(small.buffer.buffer !== first.buffer.buffer, 'a new buffer for a much smaller size');
  const tiny = pool.lease(1000);
  tiny.release();
  assert.equal(pool.idleBufferBytes, 4 * MiB);
});

test('idle buffers are kept up to a bound, and dropped once idle for long', async (t) => {
  const pool = new BufferPool(MiB, 8 * MiB, 100);
  t.after(() => pool.close());
  const leases = [pool.lease(4 * MiB), pool.lease(4 * MiB), pool.lease(4 * MiB)];
  for (const l of leases) l.release();
  assert.equal(pool.idleBufferBytes, 8 * MiB, 'the third is left to the collector');
  await sleep(1200);
  assert.equal(pool.idleBufferBytes, 0);
});
