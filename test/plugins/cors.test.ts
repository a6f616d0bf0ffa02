import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, NO_CHROMIUM } from '../helpers/chromium.js';
import { fakeKeypoint, ok, type FakeKeypoint } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import { Problem as ProblemSchema } from '../../src/schemas/problem.js';
import { KeypointsAnswer } from '../../src/schemas/keypoints.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

/** A partner's web page: another origin than the gateway's (another port; or another host name). */
async function startPageServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>partner page</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

interface Outcome {
  status?: number;
  logid?: string | null;
  /** The JSON answer as the page read it, for the test to parse. */
  body?: unknown;
  refused?: string;
}

/** In the page: upload a photo with fetch, as a partner's front end would, and read what it may. */
function upload(page: Page, url: string, photo: string, contentType = 'image/png'): Promise<Outcome> {
  return page.evaluate(
    async ({ url, photo, contentType }) => {
      try {
        const bytes = Uint8Array.from(atob(photo), (c) => c.charCodeAt(0));
        const res = await fetch(`${url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': contentType }, body: new Blob([bytes]) });
        return { status: res.status, logid: res.headers.get('x-tt-logid'), body: await res.json() } as Outcome;
      } catch (err) {
        return { refused: String(err) } as Outcome;
      }
    },
    { url, photo, contentType },
  );
}

describe('CORS in a real browser', { skip: NO_CHROMIUM }, () => {
  let be: FakeKeypoint;
  let pages: Awaited<ReturnType<typeof startPageServer>>;
  let gw: TestGateway;
  let browser: Browser;
  const photo = fixture('astronaut.png').toString('base64');

  before(async () => {
    be = await fakeKeypoint(() => ok());
    pages = await startPageServer();
    gw = await startGateway({ KEYPOINT_BACKENDS: be.address, CORS_ORIGINS: `http://127.0.0.1:${pages.port}` });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await pages?.close();
    await be?.close();
  });

  test('a page on an allowed origin uploads a photo and reads the answer and X-Tt-Logid; a refusal too', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${pages.port}/`);
    const done = await upload(page, gw.url, photo);
    assert.equal(done.status, 200, done.refused);
    assert.ok(done.logid);
    const answer = KeypointsAnswer.parse(done.body);
    assert.equal(answer.logid, done.logid);
    assert.deepEqual(answer.faces, []);
    // The POST with an image type is not "simple": the browser asked first, and was answered.
    assert.ok(gw.logs.some((l) => l.msg === 'request completed' && l.method === 'OPTIONS' && l.status === 204));
    // An error answer is as readable: its problem and its log id.
    const refused = await upload(page, gw.url, Buffer.from('not a photo').toString('base64'));
    assert.equal(refused.status, 415);
    const problem = ProblemSchema.parse(refused.body);
    assert.equal(problem.code, 'UNSUPPORTED_IMAGE_FORMAT');
    assert.equal(refused.logid, problem.logid);
    await page.close();
  });

  test('a page on an origin not allowed is refused by the browser, and the backend is never called', async () => {
    const page = await browser.newPage();
    // Same server, another origin: localhost is not 127.0.0.1 to a browser.
    await page.goto(`http://localhost:${pages.port}/`);
    const calls = be.requests.length;
    const outcome = await upload(page, gw.url, photo);
    assert.match(outcome.refused ?? `answered ${outcome.status}`, /TypeError: Failed to fetch/);
    assert.equal(be.requests.length, calls);
    await page.close();
  });
});

test('preflights are answered 204, naming the allowed origin only and the headers a page may read', async (t) => {
  const gw = await startGateway({ CORS_ORIGINS: 'https://app.example.com,https://other.example.com' });
  t.after(() => gw.close());
  const preflight = (origin: string) =>
    fetch(`${gw.url}/v1/keypoints`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-api-key' },
    });
  const allowed = await preflight('https://app.example.com');
  assert.equal(allowed.status, 204);
  assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com');
  assert.match(allowed.headers.get('access-control-allow-methods')!, /POST/);
  assert.equal(allowed.headers.get('access-control-allow-headers'), 'content-type,x-api-key');
  assert.ok(allowed.headers.get('x-tt-logid'));
  const other = await preflight('https://evil.example.com');
  assert.equal(other.status, 204);
  assert.equal(other.headers.get('access-control-allow-origin'), null);

  const answer = await fetch(`${gw.url}/healthz`, { headers: { origin: 'https://other.example.com' } });
  assert.equal(answer.headers.get('access-control-allow-origin'), 'https://other.example.com');
  const exposed = answer.headers.get('access-control-expose-headers')!.split(', ');
  for (const name of ['X-Tt-Logid', 'X-Skipped-Entries', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Content-Disposition']) {
    assert.ok(exposed.includes(name), name);
  }
  assert.match(answer.headers.get('vary')!, /Origin/i);
});
