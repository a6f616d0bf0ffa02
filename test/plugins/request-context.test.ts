import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fakeKeypoint, ok, type FakeKeypoint } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

describe('log id and Base', () => {
  let be: FakeKeypoint;
  let gw: TestGateway;
  before(async () => {
    be = await fakeKeypoint(() => ok());
    gw = await startGateway({ KEYPOINT_BACKENDS: be.address, BASE_CALLER: 'gateway.test' });
  });
  after(async () => {
    await gw.close();
    await be.close();
  });

  const detect = (headers: Record<string, string> = {}) =>
    fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png', ...headers }, body: fixture('coffee.png') });

  test('Base carries the log id, the caller, the client address, and the traceparent', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const res = await detect({ 'x-tt-logid': 'abc-123', traceparent });
    assert.equal(res.status, 200);
    const base = be.requests.at(-1)!.Base!;
    assert.equal(base.LogID, 'abc-123');
    assert.equal(base.Caller, 'gateway.test');
    assert.equal(base.Addr, '127.0.0.1');
    assert.equal(base.Client, '');
    assert.deepEqual(base.Extra, { traceparent });
  });

  test('a malformed traceparent is not forwarded', async () => {
    await detect({ traceparent: 'not-a-trace' });
    assert.equal(be.requests.at(-1)!.Base!.Extra, null);
  });

  // W3C Trace Context: an all-zero trace-id or parent-id makes the header invalid, to be ignored.
  for (const [what, traceparent] of [
    ['an all-zero traceparent', `00-${'0'.repeat(32)}-${'0'.repeat(16)}-00`],
    ['an all-zero trace-id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['an all-zero parent-id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
  ] as const) {
    test(`${what} is ignored, not forwarded, and the request is served`, async () => {
      const res = await detect({ traceparent });
      assert.equal(res.status, 200);
      assert.equal(be.requests.at(-1)!.Base!.Extra, null);
    });
  }

  test('a new log id is made when the request has none, and it is unique', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${gw.url}/healthz`);
      const id = res.headers.get('x-tt-logid')!;
      assert.match(id, /^\d{14}[0-9A-F]{16}$/);
      ids.add(id);
    }
    assert.equal(ids.size, 20);
    await detect();
    assert.match(be.requests.at(-1)!.Base!.LogID!, /^\d{14}[0-9A-F]{16}$/);
  });

  for (const bad of ['x'.repeat(65), 'has space', 'semi;colon', 'slash/y', '']) {
    test(`an unusable X-Tt-Logid (${JSON.stringify(bad).slice(0, 20)}) is replaced`, async () => {
      const res = await fetch(`${gw.url}/healthz`, { headers: { 'x-tt-logid': bad } });
      assert.notEqual(res.headers.get('x-tt-logid'), bad);
      assert.match(res.headers.get('x-tt-logid')!, /^\d{14}[0-9A-F]{16}$/);
    });
  }

  test('every log line of a request carries its log id', async () => {
    await detect({ 'x-tt-logid': 'every-line' });
    const lines = gw.logs.filter((l) => l.logid === 'every-line');
    assert.ok(lines.length >= 2);
    // No line about this request lacks it: find them by their request fields.
    const orphans = gw.logs.filter((l) => l.url === '/v1/keypoints' && !l.logid);
    assert.equal(orphans.length, 0);
  });
});
