import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fakeKeypoint, ok, type FakeKeypoint } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import { startGateway, type Problem, type TestGateway } from '../helpers/gateway.js';

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
      assert.match(res.headers.get('content-type')!, /^application\/problem\+json/);
      assert.equal(res.headers.get('x-tt-logid'), `s${status}`);
      assert.equal(((await res.json()) as Problem).logid, `s${status}`);
    }
  });

  test('malformed HTTP gets a problem+json 400 with a log id, not an HTML page', async () => {
    const socket = net.connect(gw.port, '127.0.0.1');
    socket.write('GARBAGE / HTTP/1.1\r\n\r\n');
    const text = await new Promise<string>((resolve) => {
      let out = '';
      socket.on('data', (c: Buffer) => (out += c.toString()));
      socket.on('close', () => resolve(out));
    });
    assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(text, /X-Tt-Logid: \d{14}/);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Problem;
    assert.equal(body.code, 'BAD_REQUEST');
  });

  test('every log line of a request carries its log id', async () => {
    await detect({ 'x-tt-logid': 'every-line' });
    const lines = gw.logs.filter((l) => l.logid === 'every-line');
    assert.ok(lines.length >= 2);
    // No line about this request lacks it: find them by their request fields.
    const orphans = gw.logs.filter((l) => l.url === '/v1/keypoints' && !l.logid);
    assert.equal(orphans.length, 0);
  });

  test('one info line per request, when answered: partner, route, status, bytes and the time of each stage', async () => {
    await detect({ 'x-tt-logid': 'one-line' });
    const info = gw.logs.filter((l) => l.logid === 'one-line' && (l.level as number) >= 30);
    assert.equal(info.length, 1, JSON.stringify(info));
    const line = info[0]!;
    assert.equal(line.msg, 'request completed');
    assert.equal(line.partner, 'anonymous');
    assert.equal(line.route, '/v1/keypoints');
    assert.equal(line.status, 200);
    assert.ok((line.bytes_in as number) > 0 && (line.bytes_out as number) > 0);
    const stages = line.stages as Record<string, number>;
    assert.deepEqual(Object.keys(stages), ['receive', 'decode', 'validate', 'rpc', 'encode']);
    assert.ok(Object.values(stages).every((ms) => ms >= 0));
    assert.ok(stages.rpc! <= (line.ms as number));
  });

  test('a refused request tells why in its one line', async () => {
    const res = await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-tt-logid': 'refused-line' }, body: '{"image": 1' });
    assert.equal(res.status, 400);
    const info = gw.logs.filter((l) => l.logid === 'refused-line' && (l.level as number) >= 30);
    assert.equal(info.length, 1);
    assert.equal(info[0]!.code, 'INVALID_JSON');
    assert.equal(info[0]!.status, 400);
  });
});
