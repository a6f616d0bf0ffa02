import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import base from '../../gen/thrift/base_types.js';
import image3d from '../../gen/thrift/image3d_types.js';
import { fixture } from '../helpers/fixtures.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { keysFile } from '../helpers/partners.js';
import { Job as JobSchema } from '../../src/schemas/jobs.js';
import { accepted, gatedImage3d, okRender, type GatedImage3d } from '../helpers/jobs.js';
import { until } from '../helpers/until.js';

const coffee = fixture('coffee.png');
const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A partner's webhook receiver: /flaky fails each message's first attempt, /gone answers 410, anything else 200. */
async function receiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url!, headers: req.headers, body });
      const id = String(req.headers['webhook-id']);
      if (req.url === '/gone') return res.writeHead(410).end();
      if (req.url === '/flaky' && !seen.has(id)) {
        seen.add(id);
        return res.writeHead(500).end();
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

const submit = (gw: TestGateway, key: string) =>
  fetch(`${gw.url}/v1/image3d/videos`, { method: 'POST', headers: { 'content-type': 'image/png', prefer: 'respond-async', authorization: `Bearer ${key}` }, body: coffee });

describe('webhooks', () => {
  let be: GatedImage3d;
  let hooks: Awaited<ReturnType<typeof receiver>>;
  let gw: TestGateway;
  const acme = { key: 'vg_acme-webhooks', secret: secret() };
  const beta = { key: 'vg_beta-webhooks', secret: secret() };
  before(async () => {
    be = await gatedImage3d((n) => (n === 2 ? new image3d.RenderResponse({ BaseResp: new base.BaseResp({ StatusCode: 5000, StatusMessage: 'boom' }) }) : okRender(n)));
    hooks = await receiver();
    gw = await startGateway({
      IMAGE3D_BACKENDS: be.address,
      JOB_STORE_DIR: mkdtempSync(join(tmpdir(), 'vg-jobs-webhooks-')),
      API_KEYS_FILE: keysFile({
        acme: { keys: [acme.key], webhook: { url: `${hooks.url}/flaky`, secret: acme.secret } },
        beta: { keys: [beta.key], webhook: { url: `${hooks.url}/gone`, secret: beta.secret } },
      }),
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_RETRY_DELAYS_S: '0.2,0.2',
    });
  });
  after(async () => {
    await gw.close();
    await be.close();
    hooks.server.close();
  });

  /** The delivery's payload, its signature checked, and its job as the OpenAPI `Job` schema describes it. */
  const verified = (r: Received, key: string) => {
    const event = new Webhook(key).verify(r.body, r.headers as Record<string, string>) as { type: string; timestamp: string; data: unknown };
    return { ...event, data: JobSchema.parse(event.data) };
  };

  test('a succeeded job is announced, signed per Standard Webhooks; a failed attempt is retried with the same id', async () => {
    const job = await accepted(await submit(gw, acme.key));
    be.release();
    await until(() => hooks.received.filter((r) => r.path === '/flaky').length >= 2, 'the retried delivery');
    const [first, second] = hooks.received.filter((r) => r.path === '/flaky');
    const event = verified(second!, acme.secret);
    assert.equal(event.type, 'job.succeeded');
    assert.equal(event.data.id, job.id);
    assert.equal(event.data.status, 'succeeded');
    assert.equal(event.data.result_url, `/v1/jobs/${job.id}/result`);
    assert.ok(Date.parse(event.timestamp) > 0);
    assert.equal(first!.headers['webhook-id'], second!.headers['webhook-id']);
    assert.equal(first!.body, second!.body);
    assert.match(String(second!.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]+=*$/);
    // Signed with another secret, it does not verify.
    assert.throws(() => verified(second!, secret()));
  });

  test('a failed job and a canceled one are announced too; 410 Gone stops the retries', async () => {
    const failed = await accepted(await submit(gw, beta.key));
    be.release();
    await until(() => hooks.received.some((r) => r.path === '/gone'), 'the failed job\'s webhook');
    const event = verified(hooks.received.find((r) => r.path === '/gone')!, beta.secret);
    assert.equal(event.type, 'job.failed');
    assert.equal(event.data.id, failed.id);
    assert.equal(event.data.error!.code, 'BACKEND_ERROR');
    const canceled = await accepted(await submit(gw, acme.key));
    await fetch(`${gw.url}/v1/jobs/${canceled.id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${acme.key}` } });
    await until(() => hooks.received.some((r) => r.path === '/flaky' && verified(r, acme.secret).data.id === canceled.id && r.headers['webhook-id'] && hooks.received.filter((x) => x.headers['webhook-id'] === r.headers['webhook-id']).length === 2), 'the canceled job\'s webhook, retried');
    assert.equal(verified(hooks.received.at(-1)!, acme.secret).type, 'job.canceled');
    await new Promise((r) => setTimeout(r, 1000)); // time for retries that must not come
    assert.equal(hooks.received.filter((r) => r.path === '/gone').length, 1);
    be.release(5);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /^visiongate_webhook_deliveries_total\{outcome="delivered"\} 2$/m);
    assert.match(metrics, /^visiongate_webhook_deliveries_total\{outcome="failed"\} 2$/m);
    assert.match(metrics, /^visiongate_webhook_deliveries_total\{outcome="gone"\} 1$/m);
  });
});

describe('webhook URLs on private networks', () => {
  test('without WEBHOOK_ALLOW_PRIVATE_NETWORKS, a webhook to loopback (by address or by name) is refused, never sent', async () => {
    const be = await gatedImage3d();
    const hooks = await receiver();
    const port = new URL(hooks.url).port;
    const gw = await startGateway({
      IMAGE3D_BACKENDS: be.address,
      JOB_STORE_DIR: mkdtempSync(join(tmpdir(), 'vg-jobs-webhooks-')),
      API_KEYS_FILE: keysFile({
        byAddress: { keys: ['vg_by-address'], webhook: { url: `http://127.0.0.1:${port}/ok`, secret: secret() } },
        byName: { keys: ['vg_by-name'], webhook: { url: `http://localhost:${port}/ok`, secret: secret() } },
      }),
    });
    try {
      for (const key of ['vg_by-address', 'vg_by-name']) assert.equal((await submit(gw, key)).status, 202);
      be.release(2);
      await until(async () => /^visiongate_webhook_deliveries_total\{outcome="refused"\} 2$/m.test(await (await fetch(`${gw.url}/metrics`)).text()), 'two refusals');
      assert.equal(hooks.received.length, 0);
    } finally {
      await gw.close();
      await be.close();
      hooks.server.close();
    }
  });
});
