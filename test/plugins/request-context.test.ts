import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fakeKeypoint, ok, type FakeKeypoint } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import { Problem as ProblemSchema } from '../../src/schemas/problem.js';
import { problemOf, startGateway, type TestGateway } from '../helpers/gateway.js';

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

  test('404, 405 and 415 answers are problem+json with the log id', async () => {
    for (const [init, url, status] of [
      [{}, '/nope', 404],
      [{ method: 'DELETE' }, '/v1/keypoints', 405],
      [{ method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b' }, '/v1/keypoints', 415],
    ] as const) {
      const res = await fetch(`${gw.url}${url}`, { ...init, headers: { ...('headers' in init ? init.headers : {}), 'x-tt-logid': `s${status}` } });
      assert.equal(res.status, status);
      assert.equal(res.headers.get('x-tt-logid'), `s${status}`);
      assert.equal((await problemOf(res)).logid, `s${status}`);
    }
  });

  /** What the gateway answers to `raw`, up to its closing the connection. */
  const rawExchange = (raw: string) =>
    new Promise<string>((resolve) => {
      const socket = net.connect(gw.port, '127.0.0.1');
      socket.write(raw);
      let out = '';
      socket.on('data', (c: Buffer) => (out += c.toString()));
      socket.on('close', () => resolve(out));
    });

  const problemIn = (text: string) => ProblemSchema.parse(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)));

  test('malformed HTTP gets a problem+json 400 with a log id, not an HTML page', async () => {
    const text = await rawExchange('GET /healthz HTTP/1.1\r\nno colon in this header\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(text, /X-Tt-Logid: \d{14}/);
    assert.equal(problemIn(text).code, 'BAD_REQUEST');
  });

  // CONNECT once got no answer at all (Node drops it when nobody listens for it).
  for (const [attack, raw] of [
    ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'],
    ['an unknown method', 'GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n'],
  ] as const) {
    test(`${attack} gets a problem+json 501, and the next request is served`, async () => {
      const text = await rawExchange(raw);
      assert.match(text, /^HTTP\/1\.1 501 Not Implemented\r\n/);
      assert.match(text, /Content-Type: application\/problem\+json/);
      const problem = problemIn(text);
      assert.equal(problem.code, 'METHOD_NOT_IMPLEMENTED');
      assert.equal(problem.status, 501);
      assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
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
