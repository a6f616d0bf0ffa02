import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fakeKeypoint, ok, type FakeKeypoint } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { chunkedBody } from '../helpers/raw-http.js';

describe('the log line of a request', () => {
  let be: FakeKeypoint;
  let gw: TestGateway;
  before(async () => {
    be = await fakeKeypoint(() => ok());
    gw = await startGateway({ KEYPOINT_BACKENDS: be.address });
  });
  after(async () => {
    await gw.close();
    await be.close();
  });

  const detect = (headers: Record<string, string> = {}) =>
    fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png', ...headers }, body: fixture('coffee.png') });

  test('an api_key (or token, signature, password...) in the URL is not in the log line', async () => {
    const secrets = { api_key: 'sk_live_SECRET1', token: 'SECRET2', 'X-Amz-Signature': 'SECRET3', password: 'SECRET4', access_token: 'SECRET5' };
    const query = new URLSearchParams({ ...secrets, max_faces: '2' }).toString();
    const res = await fetch(`${gw.url}/v1/keypoints?${query}`, { method: 'POST', headers: { 'content-type': 'image/png', 'x-tt-logid': 'leaky-url' }, body: fixture('coffee.png') });
    assert.equal(res.status, 400); // the credentials are not options of the route
    const lines = gw.logs.filter((l) => l.logid === 'leaky-url');
    assert.ok(lines.length > 0);
    assert.doesNotMatch(JSON.stringify(lines), /SECRET/);
    const line = lines.find((l) => l.msg === 'request completed')!;
    assert.match(String(line.url), /api_key=\[REDACTED\]&token=\[REDACTED\]&X-Amz-Signature=\[REDACTED\]&password=\[REDACTED\]&access_token=\[REDACTED\]&max_faces=2$/);
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

  test('bytes_in of a chunked upload (no Content-Length) is the bytes sent, not 0', async () => {
    const coffee = fixture('coffee.png');
    const res = await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png', 'x-tt-logid': 'chunked-in' }, ...chunkedBody(coffee) });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const line = gw.logs.find((l) => l.logid === 'chunked-in' && l.msg === 'request completed')!;
    assert.equal(line.bytes_in, coffee.length);
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
