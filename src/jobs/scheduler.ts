import type { BackendName } from '../services/index.js';
import { JOB_KINDS, type JobKindName, type JobRecord } from './job.js';
import { runJob, type JobQueue, type RunnerDeps } from './runner.js';

interface Running {
  partner: string;
  kind: JobKindName;
  controller: AbortController;
}

export interface EmbeddedDeps extends RunnerDeps {
  /** Calls a backend can take at once: its instances × its connections each. */
  capacity(backend: BackendName): number;
}

/**
 * The embedded queue: queued jobs in order of arrival per kind, started while the kind's
 * backend has room. Fair between partners: each has at most JOBS_MAX_RUNNING_PER_PARTNER
 * running, and a free slot goes to the partner whose last start is the oldest, so one
 * partner's burst waits behind another's single job rather than ahead of it.
 */
export class EmbeddedQueue implements JobQueue {
  private readonly queues = new Map<JobKindName, Map<string, JobRecord>>(JOB_KINDS.map((k) => [k, new Map<string, JobRecord>()]));
  private readonly running = new Map<string, Running>();
  private readonly lastStart = new Map<string, number>();
  private starts = 0;
  private stopped = false;

  constructor(private readonly deps: EmbeddedDeps) {}

  /** Jobs left queued or running by an earlier process go back in the queue, oldest first. */
  async start(): Promise<void> {
    const unfinished = (await this.deps.store.all()).filter((j) => j.status === 'queued' || j.status === 'running');
    unfinished.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
    for (const job of unfinished) this.queues.get(job.kind)!.set(job.id, job);
    if (unfinished.length > 0) this.deps.log.info({ jobs: unfinished.length }, 'jobs: unfinished jobs of an earlier run are queued again');
    this.tick();
  }

  async enqueue(job: JobRecord): Promise<void> {
    this.queues.get(job.kind)!.set(job.id, job);
    this.tick();
  }

  async position(job: JobRecord): Promise<number | null> {
    let i = 0;
    for (const id of this.queues.get(job.kind)!.keys()) {
      i++;
      if (id === job.id) return i;
    }
    return null;
  }

  async queuedOf(partner: string): Promise<number> {
    let n = 0;
    for (const queue of this.queues.values()) for (const job of queue.values()) if (job.partner === partner) n++;
    return n;
  }

  async depth(kind: JobKindName): Promise<{ depth: number; oldestMs: number | undefined }> {
    const queue = this.queues.get(kind)!;
    const first = queue.values().next();
    return { depth: queue.size, oldestMs: first.done ? undefined : Date.parse(first.value.created_at) };
  }

  async withdraw(id: string): Promise<void> {
    for (const queue of this.queues.values()) queue.delete(id);
    this.running.get(id)?.controller.abort(new Error('the job was canceled'));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const run of this.running.values()) run.controller.abort(new Error('the gateway is stopping'));
  }

  private tick(): void {
    if (this.stopped) return;
    for (const [kind, queue] of this.queues) {
      const backend = this.deps.kinds.get(kind)?.backend;
      if (queue.size === 0 || !backend) continue;
      let running = [...this.running.values()].filter((r) => r.kind === kind).length;
      while (running < this.deps.capacity(backend)) {
        const next = this.pick(queue);
        if (!next) break;
        queue.delete(next.id);
        this.begin(next);
        running++;
      }
    }
  }

  private pick(queue: Map<string, JobRecord>): JobRecord | undefined {
    const runningOf = new Map<string, number>();
    for (const r of this.running.values()) runningOf.set(r.partner, (runningOf.get(r.partner) ?? 0) + 1);
    let best: JobRecord | undefined;
    let bestStart = Infinity;
    for (const job of queue.values()) {
      if ((runningOf.get(job.partner) ?? 0) >= this.deps.config.maxRunningPerPartner) continue;
      const last = this.lastStart.get(job.partner) ?? -1;
      if (last < bestStart) {
        best = job;
        bestStart = last;
      }
    }
    return best;
  }

  private begin(job: JobRecord): void {
    this.lastStart.set(job.partner, this.starts++);
    const run: Running = { partner: job.partner, kind: job.kind, controller: new AbortController() };
    this.running.set(job.id, run);
    runJob(this.deps, job, run.controller.signal)
      .catch((err: unknown) => this.deps.log.error({ err, job: job.id }, 'jobs: a job could not be run'))
      .finally(() => {
        this.running.delete(job.id);
        this.tick();
      });
  }
}
