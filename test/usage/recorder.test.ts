import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UsageRow, UsageStore } from '../../src/usage/counts.js';
import { UsageRecorder } from '../../src/usage/recorder.js';

test('counts either side of UTC midnight, in any order, go to their own days', async () => {
  const written: UsageRow[] = [];
  const store: UsageStore = { add: async (rows) => void written.push(...rows), read: async () => written, close: async () => {} };
  const recorder = new UsageRecorder(store, 60_000, (err) => assert.fail(String(err)));
  const midnight = Date.parse('2026-11-29T00:00:00Z');
  for (const at of [midnight - 1, midnight, midnight - 1000, midnight + 86_400_000 - 1, midnight + 86_400_000]) recorder.count('acme', '/v1/keypoints', { requests: 1 }, at);
  await recorder.close();
  assert.deepEqual(
    written.map((r) => [r.date, r.counts.requests]),
    [
      ['2026-11-28', 2],
      ['2026-11-29', 2],
      ['2026-11-30', 1],
    ],
  );
});
