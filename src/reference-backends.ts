import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendConfig } from './config/schema.js';
import { envPrefix } from './services/descriptor.js';

export interface LaunchedBackend {
  port: number;
  child: ChildProcess;
}

// Same extension as this file: .ts under tsx (tests, dev), .js once built.
const ext = extname(fileURLToPath(import.meta.url));

/** A stand-in was asked for where the reference backends are not installed: one line to print. */
export class ReferenceBackendsMissing extends Error {}

/**
 * Whether the reference backends' package is installed: a production install of the gateway
 * (`npm ci --omit=dev --workspaces=false`, its image) leaves it and its dependencies out.
 */
function referenceBackendsInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('visiongate-reference-backends/package.json');
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a reference backend as a child process on a free loopback port, speaking the
 * transport and protocol the gateway is configured for. A process of its own, because the
 * CPU work would otherwise stall the gateway's event loop. `entry` is the name the service's
 * descriptor gives it (`reference.entry`).
 */
export async function launchReferenceBackend(entry: string, backend: BackendConfig): Promise<LaunchedBackend> {
  if (!referenceBackendsInstalled()) {
    const variable = `${envPrefix(backend.name)}BACKENDS`;
    throw new ReferenceBackendsMissing(
      `${variable} is unset and the reference backends are not installed here (a production install of the gateway leaves them out): set ${variable} to the real service, or run the visiongate-reference-backends image (docs/reference-backends.md)`,
    );
  }
  const main = fileURLToPath(new URL(`./backends/${entry}/main${ext}`, import.meta.url));
  const child = fork(main, ['--port', '0', '--transport', backend.transport, '--protocol', backend.protocol], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (msg: { port: number }) => resolve({ port: msg.port, child }));
    child.once('exit', (code) => reject(new Error(`the ${backend.name} reference backend exited with code ${code} before listening`)));
  });
}
