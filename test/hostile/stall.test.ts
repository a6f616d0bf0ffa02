import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fakeImage3d } from '../helpers/fake-backends.js';
import { KeypointsAnswer } from '../../src/schemas/keypoints.js';
import { flatPng } from '../helpers/fixtures.js';
import { answerOrProblem } from '../helpers/gateway.js';
import { watchRss } from '../helpers/process-stats.js';
import { startServerProcess } from '../helpers/server-process.js';

const CLIENTS = 500;
const STALL_MS = 30_000;
const CALL_TIMEOUT_MS = 500;
const QUEUE_TIMEOUT_MS = 2000;

test(`a stalled backend under ${CLIENTS} concurrent clients: quick 503/504s, bounded memory, recovery as soon as it answers again`, async (t) => {
  const backend = fork(fileURLToPath(new URL('../helpers/stallable-backend.ts', import.meta.url)), { execArgv: ['--import', 'tsx'] });
  t.after(() => backend.kill('SIGKILL'));
  const [{ address }] = (await once(backend, 'message')) as [{ address: string }];
  const be3d = await fakeImage3d(() => {
    throw new Error('not called');
  });
  t.after(() => be3d.close());
  const { child, url } = await startServerProcess({
    KEYPOINT_BACKENDS: address,
    IMAGE3D_BACKENDS: be3d.address,
    KEYPOINT_TIMEOUT_MS: String(CALL_TIMEOUT_MS),
    RPC_QUEUE_TIMEOUT_MS: String(QUEUE_TIMEOUT_MS),
    DRAIN_DELAY_MS: '0',
  });
  t.after(() => child.kill('SIGKILL'));
  // A small photo: this is about how many clients wait, not how big their bodies are.
  const body = await flatPng(64, 64);
  const rss = watchRss(child.pid!);
  t.after(() => rss.stop());

  const during: Array<{ status: number; code: string; ms: number }> = [];
  let recoveredAt = 0;
  const after: string[] = [];
  const releaseAt = Date.now() + STALL_MS;
  const stopAt = releaseAt + 4000;
  const client = async () => {
    while (Date.now() < stopAt) {
      const started = Date.now();
      const res = await fetch(`${url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, body });
      const code = (await answerOrProblem(res, KeypointsAnswer)).problem?.code ?? '';
      // Answered while the backend was stalled: never a 200. (A call it held may succeed once released.)
      if (Date.now() < releaseAt) during.push({ status: res.status, code, ms: Date.now() - started });
      else if (started < releaseAt) continue;
      else if (res.status === 200 && !recoveredAt) recoveredAt = Date.now();
      else if (res.status !== 200) after.push(`${res.status} ${code} ${Date.now() - releaseAt}`);
    }
  };
  // How long a request that waits for nothing takes under the same load: the machine's
  // scheduling slack, which the time bounds below add to what the configuration promises.
  let slack = 0;
  const probe = async () => {
    while (Date.now() < stopAt) {
      const started = Date.now();
      await (await fetch(`${url}/healthz`)).arrayBuffer();
      slack = Math.max(slack, Date.now() - started);
      await sleep(200);
    }
  };
  const load = Promise.all([...Array.from({ length: CLIENTS }, client), probe()]);
  await sleep(STALL_MS);
  backend.send('release');
  await load;
  const peak = rss.peak();
  const baseline = rss.baseline;

  const kinds = new Map<string, number>();
  for (const d of during) kinds.set(`${d.status} ${d.code}`, (kinds.get(`${d.status} ${d.code}`) ?? 0) + 1);
  const summary = JSON.stringify(Object.fromEntries(kinds));
  t.diagnostic(`${during.length} refusals during the stall: ${summary}; scheduling slack ${slack} ms; RSS ${baseline.toFixed(0)} → ${peak.toFixed(0)} MiB; recovered after ${recoveredAt - releaseAt} ms`);
  for (const d of during) assert.ok([503, 504].includes(d.status), summary);
  assert.ok(during.length > CLIENTS, summary);
  t.diagnostic(`after release: ${after.slice(0, 10).join(', ')} … ${after.length}`);
  // A refusal waits at most for the queue and then the call, never for the stall (30 s).
  const slowest = Math.max(...during.map((d) => d.ms));
  assert.ok(slowest < QUEUE_TIMEOUT_MS + CALL_TIMEOUT_MS + 2 * slack + 1000, `slowest refusal took ${slowest} ms (slack ${slack} ms)`);
  assert.ok(peak - baseline < 250, `RSS rose from ${baseline.toFixed(0)} to ${peak.toFixed(0)} MiB`);
  // Back within a few call timeouts: the probe in flight at the release, then the next.
  const recovery = recoveredAt - releaseAt;
  assert.ok(recoveredAt > 0 && recovery < 6 * CALL_TIMEOUT_MS + 2 * slack, `recovered ${recovery} ms after the backend did (slack ${slack} ms)`);
});
