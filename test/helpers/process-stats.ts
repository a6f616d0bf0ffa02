import { readFileSync } from 'node:fs';

/** A process's resident memory, in MiB, from /proc. */
export const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** A process's RSS sampled every 100 ms from now: where it started, and its peak since. */
export function watchRss(pid: number): { baseline: number; peak(): number; stop(): void } {
  const baseline = rssMiB(pid);
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 100);
  return { baseline, peak: () => Math.max(peak, rssMiB(pid)), stop: () => clearInterval(timer) };
}

/**
 * The longest event-loop delay of a gateway since the last time this was asked, in ms: its
 * `nodejs_eventloop_lag_max_seconds`, which prom-client resets at every scrape.
 */
export async function loopDelayMaxMs(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)![1]) * 1000;
}

/**
 * How slow the machine is right now, as the gateway sees it: the slowest of a few GET /healthz
 * round trips, which wait for nothing but scheduling. Time bounds in tests add this to what
 * the configuration promises, so that a loaded machine stretches them and nothing else does.
 */
export async function schedulingSlackMs(url: string, probes = 5): Promise<number> {
  let slowest = 0;
  for (let i = 0; i < probes; i++) {
    const started = performance.now();
    await (await fetch(`${url}/healthz`)).arrayBuffer();
    slowest = Math.max(slowest, performance.now() - started);
  }
  return slowest;
}
