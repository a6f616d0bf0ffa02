import type { FastifyBaseLogger } from 'fastify';
import type { BackendName, JobsConfig } from '../config/schema.js';
import { ApiError, toProblem } from '../errors.js';
import type { CallContext, RpcClient } from '../rpc/rpc-client.js';
import type { BlobStore } from './blob-store.js';
import { JOB_KINDS, type JobKindName, type JobRecord } from './job.js';
import type { JobStore } from './job-store.js';
import type { JobKind } from './kind.js';
import { pack, unpack } from './pack.js';

export const inputKey = (id: string): string => `${id}/input`;
export const resultKey = (id: string): string => `${id}/result`;

interface Running {
  partner: string;
  kind: JobKindName;
  controller: AbortController;
  /** Canceled, or the gateway is stopping: whatever the call ends in is not recorded. */
  abandoned: boolean;
  done: Promise<void>;
}

export interface SchedulerDeps {
  store: JobStore;
  blobs: BlobStore;
  rpc: RpcClient;
  kinds: Map<JobKindName, JobKind>;
  config: JobsConfig;
  log: FastifyBaseLogger;
  /** Calls a backend can take at once: its instances × its connections each. */
  capacity(backend: BackendName): number;
  /** A job reached a final state by running (not by cancel or expiry). */
  finished(job: JobRecord): void;
}

/**
 * The embedded queue: queued jobs in order of arrival per kind, started while the kind's
 * backend has room. Fair between partners: each has at most JOBS_MAX_RUNNING_PER_PARTNER
 * running, and a free slot goes to the partner whose last start is the oldest, so one
 * partner's burst waits behind another's single job rather than ahead of it.
 */
export class Scheduler {
  private readonly queues = new Map<JobKindName, Set<string>>(JOB_KINDS.map((k) => [k, new Set<string>()]));
  readonly running = new Map<string, Running>();
  private readonly lastStart = new Map<string, number>();
  private starts = 0;
  private stopped = false;

  constructor(private readonly deps: SchedulerDeps) {}

  /** Jobs left queued or running by an earlier process go back in the queue, oldest first. */
  recover(jobs: Iterable<JobRecord>): JobRecord[] {
    const unfinished = [...jobs].filter((j) => j.status === 'queued' || j.status === 'running');
    unfinished.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
    for (const job of unfinished) this.queues.get(job.kind)!.add(job.id);
    return unfinished;
  }

  enqueue(job: JobRecord): void {
    this.queues.get(job.kind)!.add(job.id);
    this.tick();
  }

  /** 1 for the next job of its kind to start. */
  position(job: JobRecord): number | null {
    let i = 0;
    for (const id of this.queues.get(job.kind)!) {
      i++;
      if (id === job.id) return i;
    }
    return null;
  }

  queuedOf(partner: string): number {
    let n = 0;
    for (const queue of this.queues.values()) for (const id of queue) if (this.deps.store.get(id)?.partner === partner) n++;
    return n;
  }

  depth(kind: JobKindName): { depth: number; oldestMs: number | undefined } {
    const queue = this.queues.get(kind)!;
    const first = queue.values().next();
    const oldest = first.done ? undefined : this.deps.store.get(first.value);
    return { depth: queue.size, oldestMs: oldest && Date.parse(oldest.created_at) };
  }

  /** Takes a queued job out of the queue, or abandons a running one's call. */
  withdraw(id: string): void {
    for (const queue of this.queues.values()) queue.delete(id);
    const run = this.running.get(id);
    if (run) {
      run.abandoned = true;
      run.controller.abort(new Error('the job was canceled'));
    }
  }

  /** Stops starting jobs; calls in flight are abandoned, their jobs left as they are on disk (run again at the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const run of this.running.values()) {
      run.abandoned = true;
      run.controller.abort(new Error('the gateway is stopping'));
    }
  }

  tick(): void {
    if (this.stopped) return;
    for (const [kind, queue] of this.queues) {
      if (queue.size === 0) continue;
      const backend = this.deps.kinds.get(kind)?.backend;
      if (!backend) continue;
      let running = [...this.running.values()].filter((r) => r.kind === kind).length;
      while (running < this.deps.capacity(backend)) {
        const next = this.pick(queue);
        if (!next) break;
        queue.delete(next.id);
        this.start(next);
        running++;
      }
    }
  }

  private pick(queue: Set<string>): JobRecord | undefined {
    const runningOf = new Map<string, number>();
    for (const r of this.running.values()) runningOf.set(r.partner, (runningOf.get(r.partner) ?? 0) + 1);
    let best: JobRecord | undefined;
    let bestStart = Infinity;
    for (const id of queue) {
      const job = this.deps.store.get(id);
      if (!job) {
        queue.delete(id);
        continue;
      }
      if ((runningOf.get(job.partner) ?? 0) >= this.deps.config.maxRunningPerPartner) continue;
      const last = this.lastStart.get(job.partner) ?? -1;
      if (last < bestStart) {
        best = job;
        bestStart = last;
      }
    }
    return best;
  }

  private start(job: JobRecord): void {
    this.lastStart.set(job.partner, this.starts++);
    const run: Running = { partner: job.partner, kind: job.kind, controller: new AbortController(), abandoned: false, done: Promise.resolve() };
    this.running.set(job.id, run);
    run.done = this.execute(job, run).finally(() => {
      this.running.delete(job.id);
      this.tick();
    });
  }

  private async execute(queued: JobRecord, run: Running): Promise<void> {
    const { store, blobs, rpc, kinds, log } = this.deps;
    const job: JobRecord = { ...queued, status: 'running', started_at: new Date().toISOString(), version: queued.version + 1 };
    const jobLog = log.child({ logid: job.logid, job: job.id, kind: job.kind, partner: job.partner });
    let outcome: Pick<JobRecord, 'status' | 'error'>;
    try {
      await store.save(job);
      const input = await blobs.get(inputKey(job.id));
      if (!input) throw new ApiError('INTERNAL_ERROR', 'The job\'s stored input is missing.');
      const ctx: CallContext = {
        logid: job.logid,
        clientAddr: job.client_addr,
        ...(job.partner === 'anonymous' ? {} : { partner: job.partner }),
        ...(job.traceparent ? { traceparent: job.traceparent } : {}),
        log: jobLog,
        signal: run.controller.signal,
      };
      const output = await kinds.get(job.kind)!.run(rpc, unpack(input), ctx);
      if (run.abandoned) return;
      await blobs.put(resultKey(job.id), pack(output));
      outcome = { status: 'succeeded', error: null };
    } catch (err) {
      if (run.abandoned) return;
      const apiError = err instanceof ApiError ? err : new ApiError('INTERNAL_ERROR', undefined, { cause: err });
      if (apiError.status >= 500) jobLog.error({ code: apiError.code, err: apiError.cause ?? apiError }, 'job failed');
      else jobLog.info({ code: apiError.code }, 'job failed');
      outcome = { status: 'failed', error: toProblem(apiError, job.logid) };
    }
    const current = store.get(job.id);
    if (run.abandoned || !current) return;
    const finishedAt = new Date();
    const finished: JobRecord = {
      ...current,
      ...outcome,
      finished_at: finishedAt.toISOString(),
      expires_at: new Date(finishedAt.getTime() + this.deps.config.resultTtlS * 1000).toISOString(),
      version: current.version + 1,
    };
    await store.save(finished);
    jobLog.info({ status: finished.status, ms: finishedAt.getTime() - Date.parse(job.started_at!) }, 'job finished');
    this.deps.finished(finished);
  }
}
