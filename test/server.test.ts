import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixture } from './helpers/fixtures.js';

const server = fileURLToPath(new URL('../src/server.ts', import.meta.url));

function start(env: Record<string, string>) {
  return spawn(process.execPath, ['--import', 'tsx', server], {
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('the server starts the reference backends, serves keypoints and videos, and exits 0 on SIGTERM', async (t) => {
  const child = start({ PORT: '0', KEYPOINT_BACKENDS: '', IMAGE3D_BACKENDS: '' });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(`exited early:\n${out}`)));
  });
  const res = await fetch(`${url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: fixture('astronaut.png') });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { faces: unknown[] }).faces.length, 1);
  const video = await fetch(`${url}/v1/image3d/videos?format=gif&duration_ms=1000`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: fixture('coffee.png'),
  });
  assert.equal(video.status, 200);
  assert.equal(video.headers.get('content-type'), 'image/gif');
  assert.equal((await fetch(`${url}/readyz`)).status, 200);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, out);
  assert.match(out, /keypoint reference backend listening/);
  assert.match(out, /image3d reference backend listening/);
});

test('invalid configuration stops the process with one line naming the variable', async () => {
  const child = start({ PORT: 'eighty' });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const [code] = await once(child, 'exit');
  assert.equal(code, 1);
  assert.equal(err.trim().split('\n').length, 1);
  assert.match(err, /^invalid configuration: PORT="eighty"/);
});
