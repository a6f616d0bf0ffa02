import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { launchReferenceBackend, type LaunchedBackend } from './backends/launch.js';
import { ConfigError, loadConfig, loadKeys } from './config/load.js';
import type { Config } from './config/schema.js';
import type { KeyRing } from './partners/api-keys.js';

let config: Config;
let keys: KeyRing | undefined;
try {
  config = loadConfig();
  keys = loadKeys(config);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}

// Backends left unset are served by the built-in CPU references, so `npm start` needs nothing
// else (loadConfig has refused this in production unless REFERENCE_BACKENDS=true).
const launched: LaunchedBackend[] = [];
for (const backend of Object.values(config.backends)) {
  if (backend.instances) continue;
  const ref = await launchReferenceBackend(backend);
  launched.push(ref);
  backend.instances = [{ host: '127.0.0.1', port: ref.port }];
  backend.reference = true;
}

const app = await buildApp(config, { keys });
// Loud, once per stand-in: its answers are a CPU approximation, not the real service's.
for (const backend of Object.values(config.backends)) {
  if (!backend.reference) continue;
  const variable = `${backend.name.toUpperCase()}_BACKENDS`;
  app.log.warn({ backend: backend.name, address: `127.0.0.1:${backend.instances![0]!.port}` }, `${variable} is unset: ${backend.name} is served by the built-in reference backend, a CPU stand-in, not the real service`);
}
for (const ref of launched) {
  ref.child.once('exit', (code, signal) => app.log.error({ code, signal }, 'a reference backend exited; its routes will answer 503'));
}

// Drain: readiness 503 and no more keep-alive for DRAIN_DELAY_MS, then stop listening and let
// in-flight requests finish; past DRAIN_DELAY_MS + DRAIN_TIMEOUT_MS the process exits anyway.
// Fault signals keep their default action (end the process): a JS handler for SIGSEGV & co.
// returns to the faulting instruction, and the process spins at full CPU instead of dying.
const FAULT_SIGNALS = ['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT', 'SIGTRAP'] as const;
closeWithGrace({ delay: config.drainDelayMs + config.drainTimeoutMs, skip: [...FAULT_SIGNALS] }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'shutting down after an error');
  else app.log.info({ signal, drainDelayMs: config.drainDelayMs }, 'draining');
  app.startDraining();
  if (!err) await new Promise((resolve) => setTimeout(resolve, config.drainDelayMs));
  await app.close();
  for (const ref of launched) ref.child.kill('SIGTERM');
});

await app.listen({ host: config.host, port: config.port });
