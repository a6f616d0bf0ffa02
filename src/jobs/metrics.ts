import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { JOB_KINDS, JOB_STATUSES, type JobRecord } from './job.js';
import type { Jobs } from './jobs.js';

/** A scrape never waits long on the store or the queue (Redis may be away): the gauges keep their last values. */
async function within<T>(work: Promise<T> | undefined): Promise<T | undefined> {
  if (!work) return undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 250)))]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * Job metrics: jobs by kind and state, queue depth and oldest queued job's age per kind (one
 * kind per backend), run time of finished jobs, webhook deliveries by outcome. Names are
 * referenced by alert rules: keep them.
 */
export function jobMetrics(registry: Registry) {
  const registers = [registry];
  let jobs: Jobs | undefined;
  new Gauge({
    name: 'visiongate_jobs',
    help: 'Jobs kept, by kind and state',
    labelNames: ['kind', 'state'],
    registers,
    async collect() {
      const all = await within(jobs?.store.all());
      if (!all) return;
      this.reset();
      const counts = new Map<string, number>();
      for (const j of all) counts.set(`${j.kind}|${j.status}`, (counts.get(`${j.kind}|${j.status}`) ?? 0) + 1);
      for (const kind of JOB_KINDS) for (const state of JOB_STATUSES) this.set({ kind, state }, counts.get(`${kind}|${state}`) ?? 0);
    },
  });
  new Gauge({
    name: 'visiongate_jobs_queue_depth',
    help: 'Jobs queued (not yet running), by kind',
    labelNames: ['kind'],
    registers,
    async collect() {
      for (const kind of JOB_KINDS) {
        const depth = await within(jobs?.queue.depth(kind));
        if (depth || !jobs) this.set({ kind }, depth?.depth ?? 0);
      }
    },
  });
  new Gauge({
    name: 'visiongate_jobs_queue_oldest_age_seconds',
    help: 'Age of the oldest queued job, by kind (0 when none is queued)',
    labelNames: ['kind'],
    registers,
    async collect() {
      const now = Date.now();
      for (const kind of JOB_KINDS) {
        const depth = await within(jobs?.queue.depth(kind));
        if (!depth && jobs) continue;
        const oldest = depth?.oldestMs;
        this.set({ kind }, oldest === undefined ? 0 : Math.max(0, (now - oldest) / 1000));
      }
    },
  });
  const duration = new Histogram({
    name: 'visiongate_job_duration_seconds',
    help: 'Run time of jobs from start to final state, by kind and final state',
    labelNames: ['kind', 'state'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const deliveries = new Counter({
    name: 'visiongate_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome: delivered, failed (retried later), gone (410: stopped), gave_up (out of retries), refused (the URL is not allowed)',
    labelNames: ['outcome'],
    registers,
  });
  return {
    watch: (service: Jobs) => void (jobs = service),
    finished(job: JobRecord): void {
      if (job.started_at && job.finished_at) duration.observe({ kind: job.kind, state: job.status }, (Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000);
    },
    delivery: (outcome: 'delivered' | 'failed' | 'gone' | 'gave_up' | 'refused') => deliveries.inc({ outcome }),
  };
}
