import { fork, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendConfig } from './config/schema.js';

export interface LaunchedBackend {
  port: number;
  child: ChildProcess;
}

// Same extension as this file: .ts under tsx (tests, dev), .js once built.
const ext = extname(fileURLToPath(import.meta.url));

/**
 * Starts a reference backend as a child process on a free loopback port, speaking the
 * transport and protocol the gateway is configured for. A process of its own, because the
 * CPU work would otherwise stall the gateway's event loop.
 */
export function launchReferenceBackend(backend: BackendConfig): Promise<LaunchedBackend> {
  const entry = fileURLToPath(new URL(`./backends/${backend.name}/main${ext}`, import.meta.url));
  const child = fork(entry, ['--port', '0', '--transport', backend.transport, '--protocol', backend.protocol], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (msg: { port: number }) => resolve({ port: msg.port, child }));
    child.once('exit', (code) => reject(new Error(`the ${backend.name} reference backend exited with code ${code} before listening`)));
  });
}
