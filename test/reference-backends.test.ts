import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoPath } from './helpers/deploy-files.js';

test('a stand-in asked for where the reference backends are not installed stops the start with one line saying what to do', async (t) => {
  // The gateway as its production install has it: its code and packages, without the
  // reference backends' workspace (npm ci --omit=dev --workspaces=false leaves it out).
  const dir = mkdtempSync(join(tmpdir(), 'vg-gateway-only-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const path of ['package.json', 'tsconfig.json', 'gen', 'src']) cpSync(repoPath(path), join(dir, path), { recursive: true });
  rmSync(join(dir, 'src/backends'), { recursive: true });
  mkdirSync(join(dir, 'node_modules'));
  for (const name of readdirSync(repoPath('node_modules'))) {
    if (name !== 'visiongate-reference-backends') symlinkSync(repoPath(`node_modules/${name}`), join(dir, 'node_modules', name));
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: dir,
    env: { ...process.env, NODE_ENV: 'production', REFERENCE_BACKENDS: 'true', KEYPOINT_BACKENDS: '', IMAGE3D_BACKENDS: '', ARSCAN_BACKENDS: '', HOST: '127.0.0.1', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let err = '';
  let out = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const [code] = await once(child, 'exit');
  assert.equal(code, 1, err);
  assert.equal(err.trim().split('\n').length, 1, err);
  assert.match(err, /^KEYPOINT_BACKENDS is unset and the reference backends are not installed here .*set KEYPOINT_BACKENDS to the real service, or run the visiongate-reference-backends image/);
  assert.doesNotMatch(out, /listening/);
});
