import type { FastifyBaseLogger } from 'fastify';
import type { JobsConfig } from '../config/schema.js';
import { ApiError } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import { isFinal, newJobId, publicJob, type JobKindName, type JobRecord, type JobStatus, type PublicJob } from './job.js';
import { inputKey, type JobQueue } from './runner.js';
import type { JobStore } from './store.js';

export interface NewJob {
  kind: JobKindName;
  partner: string;
  logid: string;
  clientAddr: string;
  traceparent?: string;
  /** The validated input, packed. */
  input: Buffer;
  /** Chosen before the job is stored, so that an idempotency key can name it first. */
  id?: string;
}

export interface ListQuery {
  status?: JobStatus;
  limit: number;
  cursor?: string;
}

const encodeCursor = (job: JobRecord) => Buffer.from(JSON.stringify([job.created_at, job.id])).toString('base64url');

function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown;
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) return value as [string, string];
  } catch {
    // answered below
  }
  throw new ApiError('INVALID_ARGUMENT', '"cursor" is not one this gateway gave out.', { errors: [{ field: 'cursor', message: 'is not valid' }] });
}

/** Newest first: by creation time, then id. */
const newestFirst = (a: JobRecord, b: JobRecord) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id);

/** The jobs of every partner: what the routes ask of them. */
export class Jobs {
  constructor(
    readonly store: JobStore,
    readonly blobs: BlobStore,
    readonly queue: JobQueue,
    private readonly config: JobsConfig,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Stores the input, then the job (so a stored job always has its input), and queues it. */
  async create(n: NewJob): Promise<JobRecord> {
    if ((await this.queue.queuedOf(n.partner)) >= this.config.maxQueuedPerPartner) {
      throw new ApiError('TOO_MANY_JOBS', `This partner already has ${this.config.maxQueuedPerPartner} queued jobs; wait for some to start.`);
    }
    const job: JobRecord = {
      id: n.id ?? newJobId(),
      kind: n.kind,
      partner: n.partner,
      status: 'queued',
      created_at: new Date().toISOString(),
      started_at: null,
      finished_at: null,
      expires_at: null,
      logid: n.logid,
      error: null,
      version: 1,
      client_addr: n.clientAddr,
      ...(n.traceparent ? { traceparent: n.traceparent } : {}),
    };
    await this.blobs.put(inputKey(job.id), n.input);
    await this.store.save(job);
    await this.queue.enqueue(job);
    // Read again: a queue with room starts the job as it is enqueued, and the record above
    // would answer "queued" with no place in the queue for a job already running. The job is
    // accepted either way: a store that fails this read does not make its answer an error.
    return (await this.store.get(job.id).catch(() => undefined)) ?? job;
  }

  /** The partner's job; another partner's is as unknown as one that never existed. */
  async find(id: string, partner: string): Promise<JobRecord> {
    const job = await this.store.get(id);
    if (!job || job.partner !== partner) throw new ApiError('JOB_NOT_FOUND', `No job ${id} for this partner.`);
    return job;
  }

  async view(job: JobRecord): Promise<PublicJob> {
    return publicJob(job, job.status === 'queued' ? await this.queue.position(job) : null);
  }

  async cancel(id: string, partner: string): Promise<JobRecord> {
    const job = await this.find(id, partner);
    if (isFinal(job.status)) throw new ApiError('JOB_ALREADY_FINISHED', `The job has already ${job.status === 'expired' ? 'expired' : 'finished'} (${job.status}).`);
    const now = new Date();
    const canceled: JobRecord = {
      ...job,
      status: 'canceled',
      finished_at: now.toISOString(),
      expires_at: new Date(now.getTime() + this.config.resultTtlS * 1000).toISOString(),
      version: job.version + 1,
    };
    await this.store.save(canceled);
    await this.queue.withdraw(id);
    this.log.info({ logid: job.logid, job: id }, 'job canceled');
    return canceled;
  }

  /** Deletes a finished job with its input and result. */
  async delete(id: string, partner: string): Promise<void> {
    const job = await this.find(id, partner);
    if (!isFinal(job.status)) throw new ApiError('JOB_NOT_FINISHED', 'The job has not finished: cancel it first, or wait for it.');
    await this.blobs.deleteAll(id);
    await this.store.remove(id);
  }

  async list(partner: string, q: ListQuery): Promise<{ jobs: PublicJob[]; next_cursor: string | null }> {
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    const mine = (await this.store.ofPartner(partner, q.status))
      .filter((j) => !after || j.created_at < after[0] || (j.created_at === after[0] && j.id < after[1]))
      .sort(newestFirst);
    const page = mine.slice(0, q.limit);
    return { jobs: await Promise.all(page.map((j) => this.view(j))), next_cursor: mine.length > q.limit ? encodeCursor(page.at(-1)!) : null };
  }

  /** The job once it is final, or as it is after `ms`. */
  async waitFinal(id: string, ms: number): Promise<JobRecord | undefined> {
    let settle!: () => void;
    const final = new Promise<void>((resolve) => (settle = resolve));
    // Listening before reading: a change between the two is not missed.
    const onChange = (job: JobRecord) => job.id === id && isFinal(job.status) && settle();
    const onRemoved = (removed: string) => removed === id && settle();
    this.store.on('change', onChange);
    this.store.on('removed', onRemoved);
    const timer = setTimeout(settle, ms);
    try {
      const now = await this.store.get(id);
      if (now && !isFinal(now.status) && ms > 0) await final;
      return await this.store.get(id);
    } finally {
      clearTimeout(timer);
      this.store.off('change', onChange);
      this.store.off('removed', onRemoved);
    }
  }

  /**
   * Expiry: a finished job past `expires_at` loses its input and result and becomes
   * `expired`; its record goes one lifetime later (until then it answers 410).
   */
  async sweep(now = Date.now()): Promise<void> {
    for (const job of await this.store.all()) {
      if (!job.expires_at || Date.parse(job.expires_at) > now) continue;
      if (job.status === 'expired') {
        if (Date.parse(job.expires_at) + this.config.resultTtlS * 1000 <= now) await this.store.remove(job.id);
        continue;
      }
      await this.blobs.deleteAll(job.id);
      await this.store.save({ ...job, status: 'expired', version: job.version + 1 });
    }
    await this.store.sweepKeys(now);
  }
}
