import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fakeArscan, fakeImage3d, fakeKeypoint, ok } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startServerProcess } from '../helpers/server-process.js';
import { eventually, expected, exported, usageOf, type Sent } from '../helpers/usage.js';

const coffee = fixture('coffee.png');

test('usage on disk with WORKERS=2: every request of a concurrent load is counted once, and kept after a stop', async (t) => {
  const backend = await fakeKeypoint(() => ok());
  const unused = await Promise.all([fakeImage3d(() => ok() as never), fakeArscan(() => ok() as never)]);
  t.after(() => Promise.all([backend, ...unused].map((b) => b.close())));
  const dir = mkdtempSync(join(tmpdir(), 'vg-usage-workers-'));
  const { child, url, output } = await startServerProcess({
    WORKERS: '2',
    KEYPOINT_BACKENDS: backend.address,
    IMAGE3D_BACKENDS: unused[0].address,
    ARSCAN_BACKENDS: unused[1].address,
    USAGE_DIR: dir,
    USAGE_FLUSH_MS: '100',
    DRAIN_DELAY_MS: '0',
  });
  t.after(() => child.kill('SIGKILL'));
  const N = 60;
  const sent: Sent[] = [];
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (sent.length < N) {
        const call = { status: 0, bytesIn: coffee.length, bytesOut: 0 };
        sent.push(call);
        const res = await fetch(`${url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png', connection: 'close' }, body: coffee });
        call.status = res.status;
        call.bytesOut = (await res.arrayBuffer()).byteLength;
      }
    }),
  );
  assert.ok(sent.every((s) => s.status === 200));
  // Without keys every caller is `anonymous`; the key header is ignored.
  await eventually(() => usageOf({ url } as TestGateway, 'unused'), expected(sent));
  child.kill('SIGTERM');
  await once(child, 'exit');
  const json = JSON.parse(await exported({ USAGE_DIR: dir }, 'json')) as Array<{ partner: string; route: string; requests: number; images: number }>;
  assert.deepEqual(json.map(({ partner, route, requests, images }) => ({ partner, route, requests, images })), [{ partner: 'anonymous', route: '/v1/keypoints', requests: N, images: N }], output());
});
