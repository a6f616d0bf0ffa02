// WORKERS > 1: the primary process serves nothing itself. It forks the workers (each a whole
// gateway; node:cluster shares the listening port among them), replaces one that dies, answers
// their scrapes with everyone's metrics, and on a stop signal lets every worker drain first.
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { serveClusterMetrics } from './metrics.js';

export interface PrimaryOptions {
  workers: number;
  /** Variables each worker gets on top of the primary's own. */
  env: Record<string, string>;
  log: Logger;
  /** Runs once every worker has exited after a stop signal; the process then exits 0. */
  stopped(): Promise<void> | void;
}

/**
 * A worker's exit code for a configuration it cannot start with (a Redis that may evict jobs):
 * sysexits' EX_CONFIG. Another worker would fail the same way, so the primary stops instead of
 * starting one a second for ever.
 */
export const CONFIG_EXIT_CODE = 78;

/** Signals that stop the gateway; the workers ignore them and wait for the primary's SIGTERM. */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

export function runPrimary({ workers, env, log, stopped }: PrimaryOptions): void {
  serveClusterMetrics();
  let stopping = false;
  let exitCode = 0;
  let alive = 0;
  // Once every worker is gone after a stop.
  const finish = () => void Promise.resolve(stopped()).finally(() => process.exit(exitCode));
  const fork = () => {
    alive++;
    cluster.fork(env);
  };
  cluster.on('exit', (worker, code, signal) => {
    alive--;
    if (stopping) {
      if (alive === 0) finish();
      return;
    }
    if (code === CONFIG_EXIT_CODE) {
      log.error({ pid: worker.process.pid, code }, 'a gateway worker cannot start with this configuration (its line above says why); stopping');
      stop(1);
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, 'a gateway worker exited; starting another');
    // After a second, so that a worker that fails at start is not forked in a tight loop.
    setTimeout(() => stopping || fork(), 1000);
  });
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    if (alive === 0) finish();
  };
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      if (!stopping) log.info({ signal, workers: alive }, 'draining every worker');
      stop(0);
    });
  }
  log.info({ workers }, 'starting gateway workers');
  for (let i = 0; i < workers; i++) fork();
}
