// First, before the modules whose code runs under load: see v8-tuning.ts.
import './v8-tuning.js';
import closeWithGrace from 'close-with-grace';
import cluster from 'node:cluster';
import { constants } from 'node:os';
import pino from 'pino';
import { buildApp } from './app.js';
import { launchReferenceBackend, ReferenceBackendsMissing, type LaunchedBackend } from './reference-backends.js';
import { CONFIG_EXIT_CODE, runPrimary, STOP_SIGNALS } from './cluster/primary.js';
import { ConfigError, loadConfig, loadKeys } from './config/load.js';
import type { Config } from './config/schema.js';
import type { KeyRing } from './partners/api-keys.js';
import { envPrefix } from './services/descriptor.js';
import { SERVICES } from './services/index.js';
import { startTracing } from './tracing.js';

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
const log = pino({ level: config.logLevel });

// With WORKERS > 1 the primary starts the reference backends once, and hands their addresses
// to its workers in this variable (name=host:port,...).
const REFERENCE_ADDRESSES = 'VISIONGATE_REFERENCE_ADDRESSES';

// Backends left unset are served by their built-in CPU references, so `npm start` needs nothing
// else (loadConfig has refused this in production unless REFERENCE_BACKENDS=true, and for a
// service whose descriptor has no reference backend).
const references: Array<{ name: string; port: number; stop(): void }> = [];
if (cluster.isWorker) {
  for (const item of (process.env[REFERENCE_ADDRESSES] ?? '').split(',').filter(Boolean)) {
    const [name, port] = item.split('=') as [keyof Config['backends'], string];
    Object.assign(config.backends[name], { instances: [{ host: '127.0.0.1', port: Number(port) }], reference: true });
  }
} else {
  for (const service of SERVICES) {
    const backend = config.backends[service.name];
    if (backend.instances || !service.reference) continue;
    let ref: LaunchedBackend;
    try {
      ref = await launchReferenceBackend(service.reference.entry, backend);
    } catch (err) {
      if (!(err instanceof ReferenceBackendsMissing)) throw err;
      console.error(err.message);
      process.exit(1);
    }
    references.push({ name: backend.name, port: ref.port, stop: () => ref.child.kill('SIGTERM') });
    backend.instances = [{ host: '127.0.0.1', port: ref.port }];
    backend.reference = true;
    ref.child.once('exit', (code, signal) => log.error({ backend: backend.name, code, signal }, 'a reference backend exited; its routes will answer 503'));
    // Loud, once per stand-in: its answers are a CPU approximation, not the real service's.
    const variable = `${envPrefix(backend.name)}BACKENDS`;
    log.warn({ backend: backend.name, address: `127.0.0.1:${ref.port}` }, `${variable} is unset: ${backend.name} is served by the built-in reference backend, a CPU stand-in, not the real service`);
  }
}
const stopReferences = () => references.forEach((ref) => ref.stop());

if (cluster.isPrimary && config.workers > 1) {
  runPrimary({ workers: config.workers, env: { [REFERENCE_ADDRESSES]: references.map((r) => `${r.name}=${r.port}`).join(',') }, log, stopped: stopReferences });
} else {
  const tracing = startTracing(config.caller);
  // What can only be checked against a running dependency (a Redis that may evict jobs) ends
  // the start as a bad variable does: one line naming it, not a stack trace.
  const app = await buildApp(config, { keys, tracing }).catch(async (err: unknown) => {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    await tracing?.shutdown();
    stopReferences();
    process.exit(cluster.isWorker ? CONFIG_EXIT_CODE : 1);
  });
  // Drain: readiness 503 and no more keep-alive for DRAIN_DELAY_MS, then stop listening and let
  // in-flight requests finish; past DRAIN_DELAY_MS + DRAIN_TIMEOUT_MS the process exits anyway.
  // close-with-grace drains on every signal of its list; the gateway stops on STOP_SIGNALS only,
  // as the WORKERS primary does, and the others keep Node's meaning. Fault signals (SIGSEGV & co.)
  // end the process: a JS handler returns to the faulting instruction and the process spins at
  // full CPU instead of dying. SIGUSR2 stays free for `--heapsnapshot-signal=SIGUSR2` (drained
  // and stopped after its snapshot, before). A worker stops on its primary's SIGTERM alone: a
  // terminal's Ctrl-C reaches the whole process group, and a second signal would end the
  // worker's drain at once.
  const stopOn: readonly string[] = cluster.isWorker ? ['SIGTERM'] : STOP_SIGNALS;
  const fromPrimaryOnly = STOP_SIGNALS.filter((s) => !stopOn.includes(s));
  for (const signal of fromPrimaryOnly) process.on(signal, () => {});
  // Every other signal name: close-with-grace ignores those outside its list.
  const notStopping = Object.keys(constants.signals).filter((s) => !stopOn.includes(s)) as closeWithGrace.AllEvents[];
  closeWithGrace({ delay: config.drainDelayMs + config.drainTimeoutMs, skip: notStopping }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal, drainDelayMs: config.drainDelayMs }, 'draining');
    app.startDraining();
    if (!err) await new Promise((resolve) => setTimeout(resolve, config.drainDelayMs));
    await app.close();
    await tracing?.shutdown();
    stopReferences();
  });
  await app.listen({ host: config.host, port: config.port });
}
