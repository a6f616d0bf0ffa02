import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { fakeKeypoint, ok } from '../helpers/fake-backends.js';
import { flatPng } from '../helpers/fixtures.js';
import { Readiness } from '../../src/schemas/health.js';
import { KeypointsAnswer } from '../../src/schemas/keypoints.js';
import { answerOrProblem, expectAnswer, startGateway } from '../helpers/gateway.js';

/** Photos of as many sizes: each request's answer names its own (16 in flight at most). */
const SIZES = 200;
const DOCUMENTED = new Set(['BACKEND_CONNECTION_LOST', 'BACKEND_UNAVAILABLE', 'BACKEND_TIMEOUT']);

test('one of two instances killed during a load run: every answer is its own 200 or a documented error', async (t) => {
  // Each backend echoes the number in the log id, so a misrouted answer would show.
  const echo = async (req: { Base?: { LogID?: string } }) => {
    await sleep(5 + Math.random() * 15);
    // The size of the photo request n sent (replies are checked against it).
    const width = 32 + (Number(/^r-(\d+)$/.exec(req.Base?.LogID ?? '')![1]) % SIZES);
    return ok({ image_width: width, image_height: width });
  };
  const a = await fakeKeypoint(echo);
  const b = await fakeKeypoint(echo);
  t.after(() => b.close());
  const gw = await startGateway({ KEYPOINT_BACKENDS: `${a.address},${b.address}`, KEYPOINT_TIMEOUT_MS: '2000' });
  t.after(() => gw.close());
  const photos = await Promise.all(Array.from({ length: SIZES }, (_, i) => flatPng(32 + i, 32 + i)));

  let next = 0;
  const outcomes: Array<{ n: number; status: number; width?: number; code?: string; after: boolean }> = [];
  let killed = false;
  // Until enough answers came after the kill, however long a loaded machine takes (bounded).
  const AFTER_KILL = 80;
  const giveUpAt = Date.now() + 120_000;
  const client = async () => {
    while (Date.now() < giveUpAt && (!killed || outcomes.filter((o) => o.after).length < AFTER_KILL)) {
      const n = next++;
      const res = await fetch(`${gw.url}/v1/keypoints`, {
        method: 'POST',
        headers: { 'content-type': 'image/png', 'x-tt-logid': `r-${n}` },
        body: photos[n % SIZES],
      });
      const { status, answer, problem } = await answerOrProblem(res, KeypointsAnswer);
      outcomes.push({ n, status, width: answer?.image.width, code: problem?.code, after: killed });
    }
  };
  const load = Promise.all(Array.from({ length: 16 }, client));
  await sleep(800);
  await a.close(); // drops every connection the gateway had to it, mid-call for some
  killed = true;
  await load;

  for (const o of outcomes) {
    if (o.status === 200) assert.equal(o.width, 32 + (o.n % SIZES), `request ${o.n} got another request's answer`);
    else assert.ok(DOCUMENTED.has(o.code!), `request ${o.n}: ${o.status} ${o.code}`);
  }
  const failed = outcomes.filter((o) => o.status !== 200);
  assert.ok(failed.length <= 16 + 3, `${failed.length} failures: only calls in flight on the killed instance may fail`);
  assert.ok(outcomes.filter((o) => o.after && o.status === 200).length > 50, 'the live instance carried the load');
  const ready = await expectAnswer(await fetch(`${gw.url}/readyz`), Readiness);
  assert.equal(ready.backends.keypoint!.instances.find((i) => i.address === a.address)!.state, 'ejected');
  assert.ok(gw.logs.some((l) => l.msg === 'backend instance ejected' && l.instance === a.address));
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  assert.match(metrics, new RegExp(`visiongate_backend_ejections_total\\{backend="keypoint",instance="${a.address.replace(/\./g, '\\.')}"\\} [1-9]`));
  // By state: the live instance up, the killed one ejected (or half-open, if its ejection ran
  // out since /readyz answered); a backend with no instance shows zeros rather than nothing.
  const instances = (backend: string, state: string) => Number(new RegExp(`^visiongate_backend_instances\\{backend="${backend}",state="${state}"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
  assert.equal(instances('keypoint', 'up'), 1);
  assert.equal(instances('keypoint', 'ejected') + instances('keypoint', 'half-open'), 1);
  assert.equal(instances('image3d', 'up'), 0);
});
