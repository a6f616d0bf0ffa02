import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { START_FLAGS } from '../../scripts/start-flags.js';

const server = fileURLToPath(new URL('../../src/server.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

/** How to start it: `src/server.ts` under tsx by default, or `npm start` itself (build and all). */
export type Launch = 'tsx' | 'npm start';

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** What it printed so far (the last 100 kB). */
  output(): string;
}

/** `src/server.ts` as its own process, as `npm start` runs it, on a free loopback port. */
export function startServerProcess(env: Record<string, string>, launch: Launch = 'tsx'): Promise<ServerProcess> {
  const [command, args] = launch === 'tsx' ? [process.execPath, [...START_FLAGS, '--import', 'tsx', server]] : ['npm', ['start', '--silent']];
  const child = spawn(command, args, {
    cwd: root,
    // No shedding on event-loop delay unless asked: a loaded test machine starves the process.
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', MAX_EVENT_LOOP_DELAY_MS: '0', USAGE_DIR: mkdtempSync(join(tmpdir(), 'vg-usage-')), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (c: Buffer) => {
    out = (out + c.toString()).slice(-100_000);
  };
  child.stderr.on('data', keep);
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      keep(c);
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, output: () => out });
    });
    child.once('exit', (code) => reject(new Error(`the server exited with code ${code} before listening:\n${out}`)));
  });
}
