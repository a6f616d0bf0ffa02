import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { fakeKeypoint, ok, type FakeKeypoint } from '../helpers/fake-backends.js';
import { jpeg } from '../helpers/fixtures.js';
import { expectProblem, startGateway, type TestGateway } from '../helpers/gateway.js';
import { keysFile } from '../helpers/partners.js';

const ACME = 'vg_acme-key-for-tests-0123456789';
const BETA = 'vg_beta-key-for-tests-0123456789';
const SLOW = 'vg_slow-key-for-tests-012345678';

describe('per-partner limits, in memory', () => {
  let backend: FakeKeypoint;
  let gw: TestGateway;
  let image: Buffer;
  before(async () => {
    image = await jpeg(96, 96);
    backend = await fakeKeypoint(async (req) => {
      // The "slow" partner's calls take a while, so that two of them overlap.
      if (req.Base?.Client === 'slow') await sleep(400);
      return ok();
    });
    const keys = keysFile({ acme: { keys: [ACME], requests_per_second: 3 }, beta: { keys: [BETA] }, slow: { keys: [SLOW], max_concurrent: 1 } });
    gw = await startGateway({ KEYPOINT_BACKENDS: backend.address, API_KEYS_FILE: keys, RATE_LIMIT_RPS: '100' });
  });
  after(async () => {
    await gw.close();
    await backend.close();
  });

  const post = (headers: Record<string, string> = {}) =>
    fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/jpeg', ...headers }, body: image });

  test('past its requests per second a partner gets 429 with Retry-After and RateLimit headers; others are not affected', async () => {
    await sleep(1000); // a fresh window
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => post({ 'x-api-key': ACME })));
    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    const limited = answers.find((r) => r.status === 429)!;
    const body = await expectProblem(limited, 429, 'RATE_LIMITED');
    assert.match(body.message, /More than 3 requests a second/);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal(limited.headers.get('ratelimit-limit'), '3');
    assert.equal(limited.headers.get('ratelimit-remaining'), '0');
    assert.ok(limited.headers.get('ratelimit-reset'));
    assert.equal((await post({ 'x-api-key': BETA })).status, 200);
    await sleep(1100);
    assert.equal((await post({ 'x-api-key': ACME })).status, 200, 'the next second has a new budget');
  });

  test('past its requests in flight a partner gets 429 TOO_MANY_CONCURRENT_REQUESTS, and its slot comes back', async () => {
    const first = post({ 'x-api-key': SLOW });
    await sleep(100);
    await expectProblem(await post({ 'x-api-key': SLOW }), 429, 'TOO_MANY_CONCURRENT_REQUESTS');
    assert.equal((await first).status, 200);
    assert.equal((await post({ 'x-api-key': SLOW })).status, 200);
  });
});
