import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface Bounded<T> {
  result: T;
  /** Highest resident set size seen while `work` ran, above the one before it, in MiB. */
  rssGrowthMiB: number;
  /** Longest the event loop was kept from its timers meanwhile, in ms. */
  longestStallMs: number;
}

/**
 * Runs `work` (the gateway serves in this process) and reports what it cost the process:
 * its peak memory and its longest event-loop stall, the two things a hostile input inflates.
 */
export async function measure<T>(work: () => Promise<T>): Promise<Bounded<T>> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sample = () => (peak = Math.max(peak, process.memoryUsage.rss()));
  const sampler = setInterval(sample, 5);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  try {
    const result = await work();
    sample();
    return { result, rssGrowthMiB: (peak - baseline) / 2 ** 20, longestStallMs: loop.max / 1e6 };
  } finally {
    clearInterval(sampler);
    loop.disable();
  }
}
