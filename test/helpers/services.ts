// Real third-party servers for tests, each on a free loopback port: Debian's redis-server and
// nginx (installed by .ci/run), started as child processes and stopped with the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { closedPort } from './fake-backends.js';

async function waitForPort(port: number, child: ChildProcess, name: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(true)).once('error', () => resolve(false));
      socket.unref();
      setTimeout(() => socket.destroy(), 200).unref();
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`${name} did not listen on ${port}`);
}

export interface Service {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** Stops a server and waits for it; nginx is asked with SIGTERM, since a killed master leaves its workers running. */
function stopper(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const late = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(late);
  };
}

/** A redis-server of its own; with `password`, as a managed Redis is: AUTH required, the password in its URL. */
export async function startRedis({ password }: { password?: string } = {}): Promise<Service> {
  const port = await closedPort(); // free now, for the server to take
  const auth = password ? ['--requirepass', password] : [];
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...auth], { stdio: 'ignore' });
  await waitForPort(port, child, 'redis-server');
  return { port, url: `redis://${password ? `:${password}@` : ''}127.0.0.1:${port}`, stop: stopper(child) };
}

/**
 * nginx in front of `upstreams`, with deploy/nginx.conf as docker-compose runs it: only its
 * upstream, listen address, log and temporary paths are changed for a local process (the
 * upstream's `resolve` goes with its line: Debian's nginx predates it, and the addresses are fixed).
 */
export async function startNginx(upstreams: string[]): Promise<Service> {
  const port = await closedPort(); // free now, for the server to take
  const prefix = mkdtempSync(join(tmpdir(), 'vg-nginx-'));
  const conf = join(prefix, 'nginx.conf');
  const deployed = readFileSync(new URL('../../deploy/nginx.conf', import.meta.url), 'utf8');
  const local = replaceOnce(
    replaceOnce(
      replaceOnce(deployed, /^\s*server gateway:8080 resolve;$/m, upstreams.map((u) => `    server ${u};`).join('\n')),
      /^\s*listen 80;$/m,
      `    listen 127.0.0.1:${port};`,
    ),
    /^\s*access_log \/dev\/stdout;$/m,
    ['access_log off;', ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${prefix}/${t};`)].join('\n'),
  );
  // As root, workers would otherwise run as nobody, who cannot use the temporary folder.
  writeFileSync(conf, `${process.getuid?.() === 0 ? 'user root;\n' : ''}error_log ${prefix}/error.log;\npid ${prefix}/nginx.pid;\n${local}`);
  const child = spawn('nginx', ['-p', prefix, '-c', conf, '-g', 'daemon off;'], { stdio: 'ignore' });
  await waitForPort(port, child, 'nginx');
  return { port, url: `http://127.0.0.1:${port}`, stop: stopper(child, 'SIGTERM') };
}

function replaceOnce(text: string, pattern: RegExp, by: string): string {
  if (!pattern.test(text)) throw new Error(`deploy/nginx.conf has no line ${pattern}`);
  return text.replace(pattern, by);
}
