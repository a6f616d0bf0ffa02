import { DelayedError, Queue, Worker, type Job as BullJob } from 'bullmq';
import { Redis } from 'ioredis';
import { warnAtMostEvery, watchRedis } from '../redis-options.js';
import type { BackendName } from '../services/index.js';
import { isFinal, JOB_KINDS, type JobKindName, type JobRecord } from './job.js';
import { runJob, type JobQueue, type RunnerDeps } from './runner.js';

const PREFIX = 'visiongate';
const SETS = 'visiongate:jobs:';
/** A partner at its running cap: its job waits this long before it is tried again. */
const CAP_DELAY_MS = 500;

// Adds a job to its partner's running set when the set is under the cap (or holds it already:
// a job taken over after its worker died); atomically, so replicas cannot both pass.
const TAKE_SLOT = `
if redis.call('sismember', KEYS[1], ARGV[1]) == 1 or redis.call('scard', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('sadd', KEYS[1], ARGV[1])
  return 1
end
return 0`;

export interface BullDeps extends RunnerDeps {
  redisUrl: string;
  /** This replica's share: api (accepts and answers only), worker (runs jobs), or both. */
  role: 'api' | 'worker' | 'both';
  /** How long a job's lock lasts: a worker silent that long (killed) has its job taken over. */
  lockMs: number;
  capacity(backend: BackendName): number;
  /** The store's Redis connection, for the per-partner sets kept beside the jobs. */
  redis: Redis;
}

/**
 * Jobs queued on Redis with BullMQ, one queue per kind: any replica adds, the replicas with
 * workers run them (at most the backend's instances × connections at once per replica). A
 * replica killed mid-job stops renewing the job's lock; after JOBS_LOCK_MS another replica's
 * worker takes the job over and runs it again: at least once, never lost.
 */
export class BullQueue implements JobQueue {
  private readonly queues = new Map<JobKindName, Queue>();
  private readonly workers: Worker[] = [];
  private readonly running = new Map<string, AbortController>();
  private readonly connections: Redis[] = [];

  constructor(private readonly deps: BullDeps) {}

  private connection(): Redis {
    // BullMQ's workers block on Redis: they need connections that retry for ever.
    const conn = new Redis(this.deps.redisUrl, { maxRetriesPerRequest: null });
    watchRedis(conn, this.deps.log, { use: 'jobs queue', whileDown: 'queued jobs wait until it is back', onceUp: 'queue shared by every replica' });
    this.connections.push(conn);
    return conn;
  }

  async start(): Promise<void> {
    // BullMQ reports each failed reconnect of every queue and worker, several a second while
    // Redis is down (and a queue without an error listener prints them with console.error):
    // the connections' own watch says when Redis goes and comes back, these say what else failed.
    const warn = warnAtMostEvery(60_000, this.deps.log);
    for (const kind of JOB_KINDS) {
      const queue = new Queue(kind, { connection: this.connection(), prefix: PREFIX });
      queue.on('error', (err: Error) => warn(err, { kind }, 'jobs: queue error'));
      this.queues.set(kind, queue);
    }
    // A job canceled on any replica: the replica running it abandons its call.
    this.deps.store.on('change', (job) => {
      if (job.status === 'canceled') this.running.get(job.id)?.abort(new Error('the job was canceled'));
    });
    if (this.deps.role === 'api') return;
    for (const [kind, handler] of this.deps.kinds) {
      const worker = new Worker(kind, (job, token) => this.process(job, token), {
        connection: this.connection(),
        prefix: PREFIX,
        concurrency: this.deps.capacity(handler.backend),
        lockDuration: this.deps.lockMs,
        stalledInterval: this.deps.lockMs,
        // Jobs taken over many times (a backend that kills the process?) are still run: never dropped.
        maxStalledCount: 1000,
      });
      worker.on('error', (err: Error) => warn(err, { kind }, 'jobs: queue worker error'));
      this.workers.push(worker);
    }
  }

  private async process(bullJob: BullJob, token: string | undefined): Promise<void> {
    const id = (bullJob.data as { id: string }).id;
    const job = await this.deps.store.get(id);
    if (!job || isFinal(job.status)) return;
    const took = await this.deps.redis.eval(TAKE_SLOT, 1, `${SETS}running:${job.partner}`, id, this.deps.config.maxRunningPerPartner);
    if (took !== 1) {
      // The partner has its share running: the job waits its turn, others go first.
      await bullJob.moveToDelayed(Date.now() + CAP_DELAY_MS, token);
      throw new DelayedError();
    }
    await this.deps.redis.srem(`${SETS}queued:${job.partner}`, id);
    const controller = new AbortController();
    this.running.set(id, controller);
    try {
      await runJob(this.deps, job, controller.signal);
    } finally {
      this.running.delete(id);
      await this.deps.redis.srem(`${SETS}running:${job.partner}`, id);
    }
  }

  async enqueue(job: JobRecord): Promise<void> {
    await this.deps.redis.sadd(`${SETS}queued:${job.partner}`, job.id);
    await this.queues.get(job.kind)!.add('job', { id: job.id }, { jobId: job.id, removeOnComplete: true, removeOnFail: true });
  }

  async withdraw(id: string): Promise<void> {
    this.running.get(id)?.abort(new Error('the job was canceled'));
    const job = await this.deps.store.get(id);
    if (job) await this.deps.redis.srem(`${SETS}queued:${job.partner}`, id);
    for (const queue of this.queues.values()) {
      // An active job is locked by its worker: it stops when that replica hears of the cancel.
      await (await queue.getJob(id))?.remove().catch(() => undefined);
    }
  }

  async position(job: JobRecord): Promise<number | null> {
    const waiting = await this.queues.get(job.kind)!.getJobs(['waiting', 'delayed', 'prioritized'], 0, -1, true);
    const i = waiting.findIndex((j) => j.id === job.id);
    return i < 0 ? null : i + 1;
  }

  queuedOf(partner: string): Promise<number> {
    return this.deps.redis.scard(`${SETS}queued:${partner}`);
  }

  async depth(kind: JobKindName): Promise<{ depth: number; oldestMs: number | undefined }> {
    const queue = this.queues.get(kind);
    if (!queue) return { depth: 0, oldestMs: undefined };
    const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized');
    const depth = Object.values(counts).reduce((a, b) => a + b, 0);
    const oldest = (await queue.getJobs(['waiting', 'delayed', 'prioritized'], 0, -1, true)).reduce<number | undefined>((min, j) => (min === undefined || j.timestamp < min ? j.timestamp : min), undefined);
    return { depth, oldestMs: oldest };
  }

  /** Workers stop without finishing their jobs: those keep their locks, and another replica takes them over when the locks run out. */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close(true)));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    // Disconnected first, so that an abandoned job's end cannot mark it done in the queue.
    for (const conn of this.connections) conn.disconnect();
    for (const controller of this.running.values()) controller.abort(new Error('the gateway is stopping'));
  }
}
