import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { fakeKeypoint, ok, type FakeKeypoint } from '../helpers/fake-backends.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startNginx, type Service } from '../helpers/services.js';
import { requireTool } from '../helpers/tools.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000040000000400806000000', 'hex');

/** POST /v1/keypoints from a chosen loopback source address, as a client on another machine would. */
function post(base: string, from: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/v1/keypoints`, { method: 'POST', localAddress: from, agent: false, headers: { 'content-type': 'image/png', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(PNG);
  });
}

describe('TRUST_PROXY: the client address behind nginx', { skip: requireTool('nginx', 'nginx-light') }, () => {
  let be: FakeKeypoint;
  let gw: TestGateway;
  let nginx: Service;
  /** Base.Addr of the calls the backend received since `from`. */
  const addrs = (from: number) => be.requests.slice(from).map((r) => r.Base!.Addr);

  before(async () => {
    be = await fakeKeypoint(() => ok());
    // nginx talks to the gateway from 127.0.0.1: the one trusted proxy. Two requests a second
    // per client address (callers without a key are told apart by address).
    gw = await startGateway({ KEYPOINT_BACKENDS: be.address, TRUST_PROXY: '127.0.0.1', RATE_LIMIT_RPS: '2' });
    nginx = await startNginx([`127.0.0.1:${gw.port}`]);
  });
  after(async () => {
    await nginx?.stop();
    await gw?.close();
    await be?.close();
  });

  test('clients from 127.0.0.2 and 127.0.0.3 are told apart: Base.Addr, the log line, and a rate limit each', async () => {
    const start = be.requests.length;
    const statuses = await Promise.all([post(nginx.url, '127.0.0.2'), post(nginx.url, '127.0.0.2'), post(nginx.url, '127.0.0.2'), post(nginx.url, '127.0.0.3'), post(nginx.url, '127.0.0.3')]);
    // 127.0.0.2 went over its two a second; 127.0.0.3 has a budget of its own (were both "nginx").
    assert.deepEqual(statuses.slice(0, 3).sort(), [200, 200, 429]);
    assert.deepEqual(statuses.slice(3), [200, 200]);
    assert.deepEqual(addrs(start).sort(), ['127.0.0.2', '127.0.0.2', '127.0.0.3', '127.0.0.3']);
    const clients = gw.logs.filter((l) => l.msg === 'request completed' && l.route === '/v1/keypoints').map((l) => l.client);
    assert.deepEqual([...new Set(clients)].sort(), ['127.0.0.2', '127.0.0.3']);
  });

  test('headers forged by a client are not believed: past nginx only its own hop counts; straight to the gateway none does', async () => {
    const start = be.requests.length;
    // (Addresses of their own: the first test spent 127.0.0.2's and 127.0.0.3's budgets.)
    assert.equal(await post(nginx.url, '127.0.0.4', { 'x-forwarded-for': '203.0.113.9' }), 200);
    // Straight to the gateway from an address that is not a trusted proxy.
    assert.equal(await post(gw.url, '127.0.0.5', { 'x-forwarded-for': '203.0.113.9', forwarded: 'for=198.51.100.7' }), 200);
    assert.deepEqual(addrs(start), ['127.0.0.4', '127.0.0.5']);
  });
});

test('a trusted proxy may send RFC 7239 Forwarded instead; a hop count trusts that many hops', async (t) => {
  const be = await fakeKeypoint(() => ok());
  t.after(() => be.close());
  const byAddress = await startGateway({ KEYPOINT_BACKENDS: be.address, TRUST_PROXY: '127.0.0.0/30' });
  t.after(() => byAddress.close());
  assert.equal(await post(byAddress.url, '127.0.0.2', { forwarded: 'for="[2001:db8::17]:4711";proto=https, for="198.51.100.7:80"' }), 200);
  // 127.0.0.2 is trusted, 198.51.100.7 is not: the client is the nearest untrusted hop.
  assert.equal(be.requests.at(-1)!.Base!.Addr, '198.51.100.7');

  const byHops = await startGateway({ KEYPOINT_BACKENDS: be.address, TRUST_PROXY: '1' });
  t.after(() => byHops.close());
  assert.equal(await post(byHops.url, '127.0.0.2', { 'x-forwarded-for': '192.0.2.1, 198.51.100.8' }), 200);
  assert.equal(be.requests.at(-1)!.Base!.Addr, '198.51.100.8');

  const untrusting = await startGateway({ KEYPOINT_BACKENDS: be.address });
  t.after(() => untrusting.close());
  assert.equal(await post(untrusting.url, '127.0.0.3', { 'x-forwarded-for': '192.0.2.1', forwarded: 'for=192.0.2.1' }), 200);
  assert.equal(be.requests.at(-1)!.Base!.Addr, '127.0.0.3');
});
