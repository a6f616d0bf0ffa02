// Swagger UI driven in a real headless Chromium (Debian's `chromium`, through playwright-core),
// against a gateway in front of reference backends.
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startArscanBackend } from '../../src/backends/arscan/server.js';
import { startImage3dBackend } from '../../src/backends/image3d/server.js';
import { startKeypointBackend } from '../../src/backends/keypoint/server.js';
import type { RunningServer } from '../../src/shared/thrift-server.js';
import { startGateway, type TestGateway } from './gateway.js';
import { launchChromium } from './chromium.js';

export { NO_CHROMIUM } from './chromium.js';

const file = (path: string) => fileURLToPath(new URL(path, import.meta.url));
export const JPEG = file('../../examples/photos/astronaut.jpg');
export const PNG = file('../fixtures/astronaut.png');
export const CAPTURE_ZIP = file('../../examples/capture-set.zip');
export const CAPTURE_PHOTOS = ['astronaut', 'motorcycle_left', 'motorcycle_right'].map((name) => file(`../../examples/photos/${name}.jpg`));

const STARTERS = { keypoint: startKeypointBackend, image3d: startImage3dBackend, arscan: startArscanBackend };

export interface SwaggerUi {
  gw: TestGateway;
  page: Page;
  /** Loads /docs afresh: nothing typed, nothing chosen. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/** A gateway with the named reference backends (and `env`), and Chromium on its /docs. */
export async function openSwaggerUi(backends: Array<keyof typeof STARTERS>, env: Record<string, string> = {}): Promise<SwaggerUi> {
  const wire = { host: '127.0.0.1', port: 0, transport: 'framed', protocol: 'binary', maxFrameBytes: 64 << 20 } as const;
  const servers: RunningServer[] = await Promise.all(backends.map((name) => STARTERS[name](wire)));
  const addresses = Object.fromEntries(backends.map((name, i) => [`${name.toUpperCase()}_BACKENDS`, `127.0.0.1:${servers[i]!.port}`]));
  // Generous deadlines: a first render on a loaded machine can take longer than the default 10 s.
  const gw = await startGateway({ KEYPOINT_TIMEOUT_MS: '60000', IMAGE3D_TIMEOUT_MS: '120000', ...addresses, ...env });
  const browser = await launchChromium();
  const page = await browser.newPage();
  const reload = async () => {
    await page.goto(`${gw.url}/docs/`);
    await page.locator('.opblock').first().waitFor();
  };
  await reload();
  return {
    gw,
    page,
    reload,
    close: async () => {
      await browser.close();
      await gw.close();
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

export interface Executed {
  status: string;
  /** The answer's text as Swagger UI shows it, when it is not a file to download. */
  body: string | null;
  /** The name of the file Swagger UI offers to download. */
  download: string | null;
}

/**
 * "Try it out" on one operation, leaving every field as Swagger UI fills it but those given:
 * types the parameters in `params` (path, query or header), picks the body's content type
 * (none for an operation without a body), chooses the files given (a multipart field's files,
 * or the raw body's under ''), and presses Execute.
 */
export async function tryOut(
  page: Page,
  path: string,
  contentType: string | undefined,
  files: Record<string, readonly string[]> = {},
  params: Record<string, string> = {},
  method = 'POST',
): Promise<Executed> {
  const op = page.locator(`.opblock-${method.toLowerCase()}`).filter({ has: page.locator(`[data-path="${path}"]`) });
  if (!(await op.locator('.opblock-body').isVisible())) await op.locator('.opblock-summary').click();
  const tryIt = op.getByRole('button', { name: 'Try it out' });
  if (await tryIt.isVisible()) await tryIt.click();
  for (const [name, value] of Object.entries(params)) await op.locator(`tr[data-param-name="${name}"] input`).fill(value);
  if (contentType) await op.locator('.body-param-content-type select').selectOption(contentType);
  for (const [field, paths] of Object.entries(files)) {
    const where = field === '' ? op.locator('.opblock-section-request-body') : op.locator(`tr[data-property-name="${field}"]`);
    for (let i = 0; i < paths.length; i++) {
      if (i >= (await where.locator('input[type=file]').count())) await where.getByRole('button', { name: /Add .* item/ }).click();
      await where.locator('input[type=file]').nth(i).setInputFiles(paths[i]!);
    }
  }
  const url = path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? '');
  const response = page.waitForResponse((r) => r.request().method() === method && new URL(r.url()).pathname === url);
  await op.locator('button.execute').click();
  await response;
  const live = op.locator('.live-responses-table tbody');
  await live.locator('.response-col_status').first().waitFor();
  const status = (await live.locator('.response-col_status').first().textContent())!.trim();
  const link = live.locator('a[download]');
  const download = (await link.count()) > 0 ? await link.first().getAttribute('download') : null;
  const text = live.locator('.microlight');
  const body = !download && (await text.count()) > 0 ? await text.first().textContent() : null;
  return { status, body, download };
}
