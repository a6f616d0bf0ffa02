import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixture } from './helpers/fixtures.js';
import net from 'node:net';
import { closeSync, fstatSync, mkdtempSync, openSync, readdirSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { closedPort, fakeKeypoint, ok } from './helpers/fake-backends.js';
import { startServerProcess } from './helpers/server-process.js';
import { START_FLAGS } from '../scripts/start-flags.js';
import { expectAnswer } from './helpers/gateway.js';
import { Readiness } from '../src/schemas/health.js';
import { KeypointsAnswer } from '../src/schemas/keypoints.js';

const server = fileURLToPath(new URL('../src/server.ts', import.meta.url));

function start(env: Record<string, string>) {
  return spawn(process.execPath, ['--import', 'tsx', server], {
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('the server starts the reference backends, says so, serves keypoints and videos, and exits 0 on SIGTERM', async (t) => {
  const { child, url, output } = await startServerProcess({ KEYPOINT_BACKENDS: '', IMAGE3D_BACKENDS: '', ARSCAN_BACKENDS: '', NODE_ENV: '', REFERENCE_BACKENDS: '' });
  t.after(() => child.kill('SIGKILL'));
  const res = await fetch(`${url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: fixture('astronaut.png') });
  assert.equal((await expectAnswer(res, KeypointsAnswer)).faces.length, 1);
  const video = await fetch(`${url}/v1/image3d/videos?format=gif&duration_ms=1000`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: fixture('coffee.png'),
  });
  assert.equal(video.status, 200);
  assert.equal(video.headers.get('content-type'), 'image/gif');
  const ready = await fetch(`${url}/readyz`);
  const { backends } = await expectAnswer(ready, Readiness);
  assert.deepEqual(Object.entries(backends).map(([name, b]) => [name, b.reference]), [['keypoint', true], ['image3d', true], ['arscan', true]]);
  // One warn line per stand-in, naming its variable.
  const warnings = output().split('\n').filter((l) => l.includes('"level":40') && l.includes('built-in reference backend'));
  assert.deepEqual(warnings.map((l) => /^"?(\w+)_BACKENDS is unset/.exec((JSON.parse(l) as { msg: string }).msg)?.[1]).sort(), ['ARSCAN', 'IMAGE3D', 'KEYPOINT']);
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

test('in production a missing *_BACKENDS stops the start with one line naming it, before any stand-in starts', async () => {
  const child = start({ NODE_ENV: 'production', KEYPOINT_BACKENDS: '127.0.0.1:9', IMAGE3D_BACKENDS: '', ARSCAN_BACKENDS: '127.0.0.1:9', REFERENCE_BACKENDS: '' });
  let err = '';
  let out = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const [code] = await once(child, 'exit');
  assert.equal(code, 1);
  assert.equal(err.trim().split('\n').length, 1, err);
  assert.match(err, /^invalid configuration: IMAGE3D_BACKENDS="": must be set with NODE_ENV=production .*REFERENCE_BACKENDS=true/);
  assert.doesNotMatch(out, /reference backend listening/);
});

test('logs are readable lines at a terminal, JSON lines otherwise', async (t) => {
  const down = `127.0.0.1:${await closedPort()}`;
  const env = { ...process.env, HOST: '127.0.0.1', PORT: '0', KEYPOINT_BACKENDS: down, IMAGE3D_BACKENDS: down, ARSCAN_BACKENDS: down };
  // `script` (util-linux, in every Debian) gives the server a pseudo-terminal as stdout.
  const command = `${process.execPath} --import tsx ${server}`;
  const tty = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => tty.kill('SIGKILL'));
  let out = '';
  await new Promise<void>((resolve) =>
    tty.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (/Server listening at/.test(out)) resolve();
    }),
  );
  // Without its colours.
  const line = out.split('\n').find((l) => l.includes('Server listening at'))!.replace(/\x1B\[[0-9;]*m/g, '');
  assert.match(line, /INFO \(\d+\).*Server listening at http:\/\/127\.0\.0\.1:\d+/);
  // The server leads a session of its own under `script`: it is stopped by its pid, which the line shows.
  const pid = Number(/INFO \((\d+)\)/.exec(line)![1]);
  t.after(() => process.kill(pid, 'SIGKILL'));
  assert.ok(!line.trim().startsWith('{'), line);

  const piped = await startServerProcess({ KEYPOINT_BACKENDS: down, IMAGE3D_BACKENDS: down, ARSCAN_BACKENDS: down });
  t.after(() => piped.child.kill('SIGKILL'));
  const json = piped.output().split('\n').find((l) => l.includes('Server listening at'))!;
  assert.equal((JSON.parse(json) as { msg: string }).msg.startsWith('Server listening at'), true);
});

test('SIGTERM to `npm start` returns only once the server has drained, exited and freed its port (npm used to exit at once)', async (t) => {
  const be = await fakeKeypoint(async () => {
    await sleep(1500);
    return ok();
  });
  t.after(() => be.close());
  const down = `127.0.0.1:${await closedPort()}`;
  const npm = await startServerProcess({ KEYPOINT_BACKENDS: be.address, IMAGE3D_BACKENDS: down, ARSCAN_BACKENDS: down, DRAIN_DELAY_MS: '1000' }, 'npm start');
  const line = npm.output().split('\n').find((l) => l.includes('Server listening at'))!;
  const serverPid = (JSON.parse(line) as { pid: number }).pid;
  t.after(() => {
    npm.child.kill('SIGKILL');
    if (alive(serverPid)) process.kill(serverPid, 'SIGKILL');
  });
  assert.notEqual(serverPid, npm.child.pid, npm.output());
  const inFlight = fetch(`${npm.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: fixture('coffee.png') });
  while (be.requests.length === 0) await sleep(20);
  npm.child.kill('SIGTERM');
  const [code, signal] = (await once(npm.child, 'exit')) as [number | null, NodeJS.Signals | null];
  // When npm is gone, so is the server: the request in flight was answered, the port is free.
  assert.equal(alive(serverPid), false, 'the server outlived npm');
  assert.deepEqual([code, signal], [0, null], npm.output());
  assert.equal((await inFlight).status, 200);
  const port = Number(new URL(npm.url).port);
  const again = net.createServer();
  await new Promise<void>((resolve, reject) => again.once('error', reject).listen(port, '127.0.0.1', resolve));
  again.close();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a fault signal ends the process at once instead of being caught (a caught SIGSEGV spins at full CPU)', async (t) => {
  const down = `127.0.0.1:${await closedPort()}`;
  const server = await startServerProcess({ KEYPOINT_BACKENDS: down, IMAGE3D_BACKENDS: down, ARSCAN_BACKENDS: down });
  t.after(() => server.child.kill('SIGKILL'));
  const exited = once(server.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  server.child.kill('SIGSEGV');
  const [code, signal] = await exited;
  assert.equal(signal, 'SIGSEGV', `exit code ${code}`);
});

test('a heap snapshot on SIGUSR2 leaves the gateway serving (close-with-grace drained and stopped it after the snapshot)', async (t) => {
  const down = `127.0.0.1:${await closedPort()}`;
  const dir = mkdtempSync(join(tmpdir(), 'vg-snapshot-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startServerProcess({ KEYPOINT_BACKENDS: down, IMAGE3D_BACKENDS: down, ARSCAN_BACKENDS: down, NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}` });
  t.after(() => server.child.kill('SIGKILL'));
  server.child.kill('SIGUSR2');
  // V8 writes the snapshot under its final name as it goes: wait for the JSON's end.
  for (;;) {
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot'));
    if (file && lastBytes(join(dir, file), 2) === ']}') break;
    await sleep(100);
  }
  await sleep(500); // the old listener ran once the snapshot was written
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  assert.doesNotMatch(server.output(), /draining/);
  server.child.kill('SIGTERM');
  const [code] = await once(server.child, 'exit');
  assert.equal(code, 0, server.output());
});

function lastBytes(file: string, n: number): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(n);
    return buffer.subarray(0, readSync(fd, buffer, 0, n, Math.max(0, fstatSync(fd).size - n))).toString();
  } finally {
    closeSync(fd);
  }
}

test('npm start runs node without V8\'s memory reducer (its idle-time collections, after a big upload and a quiet spell, left the gateway collecting fully several times a second under load, at up to twice the CPU a request)', () => {
  // Only a command-line flag turns it off (v8.setFlagsFromString at run time was measured to do nothing);
  // the Dockerfile's CMD and the systemd unit are tested to match npm start (test/deploy).
  assert.ok(START_FLAGS.includes('--no-memory-reducer'), START_FLAGS.join(' '));
});
