import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startKeypointBackend } from '../src/backends/keypoint/server.js';
import type { RunningServer } from '../src/backends/thrift-server.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const CHROMIUM = '/usr/bin/chromium';
const astronaut = fileURLToPath(new URL('./fixtures/astronaut.png', import.meta.url));

/** Swagger UI's "Try it out", clicked in a real headless Chromium (Debian's `chromium`). */
describe('Swagger UI at /docs', { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM} here (apt-get install chromium)` }, () => {
  let backend: RunningServer;
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  before(async () => {
    backend = await startKeypointBackend({ host: '127.0.0.1', port: 0, transport: 'framed', protocol: 'binary', maxFrameBytes: 64 << 20 });
    gw = await startGateway({ KEYPOINT_BACKENDS: `127.0.0.1:${backend.port}` });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    await page.goto(`${gw.url}/docs/`);
    await page.click('.opblock-post .opblock-summary');
    await page.click('button.try-out__btn');
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await backend?.close();
  });

  async function execute(): Promise<{ status: string; body: { faces: unknown[]; image: { width: number } } }> {
    const response = page.waitForResponse((r) => r.url().includes('/v1/keypoints'));
    await page.click('button.execute');
    await response;
    const status = (await page.textContent('.live-responses-table tbody .response-col_status'))!.trim();
    const body = JSON.parse((await page.textContent('.live-responses-table tbody .microlight'))!) as { faces: unknown[]; image: { width: number } };
    return { status, body };
  }

  test('the JSON example, as prefilled, finds the face', async () => {
    const { status, body } = await execute();
    assert.equal(status, '200');
    assert.equal(body.image.width, 160);
    assert.equal(body.faces.length, 1);
  });

  test('a multipart file upload', async () => {
    await page.selectOption('.body-param-content-type select', 'multipart/form-data');
    await page.setInputFiles('input[type=file]', astronaut);
    const { status, body } = await execute();
    assert.equal(status, '200');
    assert.equal(body.image.width, 512);
    assert.equal(body.faces.length, 1);
  });

  test('a raw image/png body', async () => {
    await page.selectOption('.body-param-content-type select', 'image/png');
    await page.setInputFiles('input[type=file]', astronaut);
    const { status, body } = await execute();
    assert.equal(status, '200');
    assert.equal(body.faces.length, 1);
  });
});
