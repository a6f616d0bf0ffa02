import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { utcDate, zeroCounts, type UsageRow } from '../../src/usage/counts.js';
import { DiskUsageStore } from '../../src/usage/disk-store.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

test('npm run usage works in a production install: no tsx, no src/, the compiled dist/usage/report.js', async (t) => {
  // The gateway image's layout (Dockerfile): package.json, dist/ built by tsc, gen/, the
  // packages; no sources and no dev tools on the PATH.
  const app = mkdtempSync(join(tmpdir(), 'vg-usage-prod-'));
  t.after(() => rmSync(app, { recursive: true, force: true }));
  await run(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.json'), '--outDir', join(app, 'dist')]);
  copyFileSync(join(root, 'package.json'), join(app, 'package.json'));
  symlinkSync(join(root, 'gen'), join(app, 'gen'));
  mkdirSync(join(app, 'node_modules'));
  for (const name of readdirSync(join(root, 'node_modules'))) if (name !== '.bin') symlinkSync(join(root, 'node_modules', name), join(app, 'node_modules', name));
  const PATH = (process.env.PATH ?? '').split(delimiter).filter((dir) => !dir.includes('node_modules')).join(delimiter);
  await assert.rejects(run('sh', ['-c', 'command -v tsx'], { env: { PATH } }), 'tsx is not to be found');

  const usageDir = mkdtempSync(join(tmpdir(), 'vg-usage-report-'));
  const today = utcDate(Date.now());
  const row: UsageRow = { date: today, partner: 'acme', route: '/v1/keypoints', counts: { ...zeroCounts(), requests: 3, succeeded: 2, client_errors: 1, bytes_in: 4096, images: 2, backend_ms: 75 } };
  await new DiskUsageStore(usageDir).add([row]);

  const env = { PATH, HOME: process.env.HOME ?? tmpdir(), USAGE_DIR: usageDir };
  const json = await run('npm', ['run', '--silent', 'usage', '--', '--from', today, '--to', today, '--format', 'json'], { cwd: app, env });
  assert.deepEqual(JSON.parse(json.stdout), [{ date: today, partner: 'acme', route: '/v1/keypoints', ...row.counts }]);
  const csv = await run('npm', ['run', '--silent', 'usage'], { cwd: app, env });
  assert.deepEqual(csv.stdout.trim().split('\n'), [
    'date,partner,route,requests,succeeded,client_errors,server_errors,bytes_in,bytes_out,images,backend_ms,jobs',
    `${today},acme,/v1/keypoints,3,2,1,0,4096,0,2,75,0`,
  ]);
});
