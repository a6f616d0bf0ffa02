import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fakeKeypoint, ok, type FakeKeypoint } from '../helpers/fake-backends.js';
import { jpeg } from '../helpers/fixtures.js';
import { expectProblem, startGateway, type TestGateway } from '../helpers/gateway.js';
import { keysFile } from '../helpers/partners.js';

const ACME = 'vg_acme-key-for-tests-0123456789';
const BETA = 'vg_beta-key-for-tests-0123456789';
const OLD = 'vg_acme-old-key-revoked-0123456';

const keys = () => keysFile({ acme: { keys: [ACME], revoked_keys: [OLD] }, beta: { keys: [BETA] } });

describe('API keys', () => {
  let backend: FakeKeypoint;
  let gw: TestGateway;
  let image: Buffer;
  before(async () => {
    image = await jpeg(96, 96);
    backend = await fakeKeypoint(() => ok());
    gw = await startGateway({ KEYPOINT_BACKENDS: backend.address, API_KEYS_FILE: keys(), RATE_LIMIT_RPS: '100' });
  });
  after(async () => {
    await gw.close();
    await backend.close();
  });

  const post = (headers: Record<string, string> = {}) =>
    fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/jpeg', ...headers }, body: image });

  test('no key: 401 problem+json, with WWW-Authenticate and the log id', async () => {
    const res = await post();
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="visiongate"');
    await expectProblem(res, 401, 'UNAUTHENTICATED');
    await expectProblem(await post({ authorization: 'Basic abc' }), 401, 'UNAUTHENTICATED');
  });

  test('a path spelled another way is still asked for its key', async () => {
    for (const path of ['/%761/keypoints', '/v1/keypoints?x=1', '/v1//keypoints']) {
      const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: image });
      assert.ok([401, 404].includes(res.status), `${path}: ${res.status}`);
    }
  });

  test('unknown or revoked key: 403, saying which', async () => {
    assert.match((await expectProblem(await post({ 'x-api-key': 'vg_nobody' }), 403, 'API_KEY_REJECTED')).message, /not known/);
    assert.match((await expectProblem(await post({ authorization: `Bearer ${OLD}` }), 403, 'API_KEY_REJECTED')).message, /revoked/);
  });

  test('a good key works as Bearer and as X-Api-Key; the partner id reaches Base.Client, the logs and the metrics', async () => {
    const bearer = await post({ authorization: `Bearer ${BETA}` });
    assert.equal(bearer.status, 200);
    const header = await post({ 'x-api-key': BETA, 'x-tt-logid': 'beta-call-1' });
    assert.equal(header.status, 200);
    assert.equal(backend.requests.at(-1)!.Base!.Client, 'beta');
    assert.equal(backend.requests.at(-1)!.Base!.LogID, 'beta-call-1');
    const lines = gw.logs.filter((l) => l.logid === 'beta-call-1');
    assert.ok(lines.length >= 1 && lines.every((l) => l.partner === 'beta'), JSON.stringify(lines));
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /visiongate_http_requests_total\{method="POST",route="\/v1\/keypoints",status="200",partner="beta"\} 2/);
    // The keys never appear in a log line.
    assert.ok(!JSON.stringify(gw.logs).includes(BETA));
  });

  test('health, readiness, metrics and the docs need no key', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
      assert.notEqual((await fetch(`${gw.url}${path}`)).status, 401, path);
    }
  });
});
