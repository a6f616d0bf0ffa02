import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixture } from './helpers/fixtures.js';
import { startServerProcess } from './helpers/server-process.js';

const server = fileURLToPath(new URL('../src/server.ts', import.meta.url));

function start(env: Record<string, string>) {
  return spawn(process.execPath, ['--import', 'tsx', server], {
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('the server starts the reference backends, serves keypoints and videos, and exits 0 on SIGTERM', async (t) => {
  const { child, url, output } = await startServerProcess({ KEYPOINT_BACKENDS: '', IMAGE3D_BACKENDS: '' });
  t.after(() => child.kill('SIGKILL'));
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
  assert.equal(code, 0, output());
  assert.match(output(), /keypoint reference backend listening/);
  assert.match(output(), /image3d reference backend listening/);
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
