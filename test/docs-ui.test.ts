import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { startArscanBackend } from '../src/backends/arscan/server.js';
import { startImage3dBackend } from '../src/backends/image3d/server.js';
import { startKeypointBackend } from '../src/backends/keypoint/server.js';
import { hashKey } from '../src/partners/api-keys.js';
import type { RunningServer } from '../src/backends/thrift-server.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { launchChromium, NO_CHROMIUM } from './helpers/chromium.js';


const astronaut = fileURLToPath(new URL('./fixtures/astronaut.png', import.meta.url));

/** Swagger UI's "Try it out", clicked in a real headless Chromium (Debian's `chromium`). */
describe('Swagger UI at /docs', { skip: NO_CHROMIUM }, () => {
  let backend: RunningServer;
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  before(async () => {
    backend = await startKeypointBackend({ host: '127.0.0.1', port: 0, transport: 'framed', protocol: 'binary', maxFrameBytes: 64 << 20 });
    gw = await startGateway({ KEYPOINT_BACKENDS: `127.0.0.1:${backend.port}` });
    browser = await launchChromium();
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

/** With API keys on: Authorize, then file uploads and binary downloads on the other routes. */
describe('Swagger UI with API keys, image3d and arscan', { skip: NO_CHROMIUM }, () => {
  const KEY = 'vg_swagger-ui-test-key-01234567';
  let image3d: RunningServer;
  let arscan: RunningServer;
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  before(async () => {
    const wire = { host: '127.0.0.1', port: 0, transport: 'framed', protocol: 'binary', maxFrameBytes: 64 << 20 } as const;
    [image3d, arscan] = await Promise.all([startImage3dBackend(wire), startArscanBackend(wire)]);
    gw = await startGateway({ IMAGE3D_BACKENDS: `127.0.0.1:${image3d.port}`, ARSCAN_BACKENDS: `127.0.0.1:${arscan.port}`, API_KEYS: `ui=${hashKey(KEY)}` });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${gw.url}/docs/`);
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
    await image3d?.close();
    await arscan?.close();
  });

  async function tryOut(operation: string, contentType: string, file: string): Promise<string> {
    const op = page.locator(`#operations-${operation}`);
    if (!(await op.locator('.opblock-body').isVisible())) await op.locator('.opblock-summary').click();
    const tryIt = op.getByRole('button', { name: 'Try it out' });
    if (await tryIt.isVisible()) await tryIt.click();
    await op.locator('.body-param-content-type select').selectOption(contentType);
    await op.locator('input[type=file]').first().setInputFiles(file);
    const response = page.waitForResponse((r) => r.request().method() === 'POST');
    await op.locator('button.execute').click();
    await response;
    await op.locator('.live-responses-table .response-col_status').first().waitFor();
    return (await op.locator('.live-responses-table tbody .response-col_status').first().textContent())!.trim();
  }

  test('without a key the try-out answers 401; after Authorize, a multipart photo gives a video to download', async () => {
    const photo = fileURLToPath(new URL('../examples/photos/astronaut.jpg', import.meta.url));
    assert.match(await tryOut('image3d-renderImage3dVideo', 'multipart/form-data', photo), /^401/);
    await page.click('.auth-wrapper .authorize');
    await page.locator('.auth-container input').first().fill(KEY);
    await page.locator('.auth-container button.authorize').first().click();
    await page.click('.auth-btn-wrapper .btn-done');
    assert.equal(await tryOut('image3d-renderImage3dVideo', 'multipart/form-data', photo), '200');
    const download = page.locator('#operations-image3d-renderImage3dVideo .live-responses-table a[download]');
    assert.match((await download.getAttribute('download'))!, /\.mp4$/);
  });

  test('a raw zip capture set gives a model zip to download', async () => {
    const zip = fileURLToPath(new URL('../examples/capture-set.zip', import.meta.url));
    assert.equal(await tryOut('arscan-createArscanModel', 'application/zip', zip), '200');
    const download = page.locator('#operations-arscan-createArscanModel .live-responses-table a[download]');
    assert.match((await download.getAttribute('download'))!, /\.zip$/);
  });
});
