import { trace } from '@opentelemetry/api';
import type { FastifyBaseLogger } from 'fastify';
import type { JobsConfig } from '../config/schema.js';
import { ApiError, toProblem } from '../errors.js';
import { ANONYMOUS } from '../partners/identity.js';
import type { CallContext, RpcClient } from '../rpc/rpc-client.js';
import { RpcError } from '../rpc/rpc-error.js';
import { apiErrorFromRpc } from '../rpc-to-http.js';
import type { BlobStore } from './blob-store.js';
import { isFinal, type JobKindName, type JobRecord } from './job.js';
import type { JobKind } from './kind.js';
import { StageClock } from '../stage-clock.js';
import { spanContextOf } from '../trace-context.js';
import { pack, unpack } from './pack.js';
import type { JobStore } from './store.js';

export const inputKey = (id: string): string => `${id}/input`;
export const resultKey = (id: string): string => `${id}/result`;

export interface RunnerDeps {
  store: JobStore;
  blobs: BlobStore;
  rpc: RpcClient;
  kinds: Map<JobKindName, JobKind>;
  config: JobsConfig;
  log: FastifyBaseLogger;
  /** A job reached a final state by running (not by cancel or expiry). */
  finished(job: JobRecord): void;
  /** A run's backend call ended (however): its time, and the images it processed, for the partner's usage on the job's route. */
  used(partner: string, route: string, counts: { backend_ms: number; images: number }): void;
}

/**
 * Runs one job: the same backend call its route makes, with the submitting request's log id,
 * partner and trace. `signal` abandons the call (cancel, or the gateway stopping): then
 * nothing is recorded, and a job left `running` is run again by whoever picks it up next.
 */
export function runJob(deps: RunnerDeps, queued: JobRecord, signal: AbortSignal): Promise<void> {
  // With tracing on, a run is a span of its own (it may start long after its request ended),
  // linked to the span of the request that submitted it; its backend call is its child.
  const submitted = queued.traceparent ? spanContextOf(queued.traceparent) : undefined;
  return trace.getTracer('visiongate').startActiveSpan(
    `job ${queued.kind}`,
    {
      links: submitted ? [{ context: submitted }] : [],
      attributes: { 'visiongate.job': queued.id, 'visiongate.logid': queued.logid, 'visiongate.partner': queued.partner },
    },
    (span) => run(deps, queued, signal).finally(() => span.end()),
  );
}

async function run(deps: RunnerDeps, queued: JobRecord, signal: AbortSignal): Promise<void> {
  const { store, blobs, rpc, kinds, log } = deps;
  const job: JobRecord = { ...queued, status: 'running', started_at: new Date().toISOString(), version: queued.version + 1 };
  const jobLog = log.child({ logid: job.logid, job: job.id, kind: job.kind, partner: job.partner });
  let outcome: Pick<JobRecord, 'status' | 'error'>;
  try {
    await store.save(job);
    const input = await blobs.get(inputKey(job.id));
    if (!input) throw new ApiError('INTERNAL_ERROR', 'The job\'s stored input is missing.');
    const kind = kinds.get(job.kind)!;
    // The submitting request was counted when it was answered; the run's backend time and images count now.
    const clock = new StageClock();
    let images = 0;
    const ctx: CallContext = {
      logid: job.logid,
      clientAddr: job.client_addr,
      ...(job.partner === ANONYMOUS ? {} : { partner: job.partner }),
      ...(job.traceparent ? { traceparent: job.traceparent } : {}),
      log: jobLog,
      signal,
      stage: (stage) => clock.enter(stage),
      processed: (n) => (images += n),
    };
    let output: unknown;
    try {
      output = await kind.run(rpc, unpack(input), ctx);
    } finally {
      deps.used(job.partner, kind.route, { backend_ms: Math.round(clock.end().rpc ?? 0), images });
    }
    if (signal.aborted) return;
    await blobs.put(resultKey(job.id), pack(output));
    outcome = { status: 'succeeded', error: null };
  } catch (err) {
    if (signal.aborted) return;
    const apiError = err instanceof ApiError ? err : err instanceof RpcError ? apiErrorFromRpc(err) : new ApiError('INTERNAL_ERROR', undefined, { cause: err });
    if (apiError.status >= 500) jobLog.error({ code: apiError.code, err: apiError.cause ?? apiError }, 'job failed');
    else jobLog.info({ code: apiError.code }, 'job failed');
    outcome = { status: 'failed', error: toProblem(apiError, job.logid) };
  }
  const current = await store.get(job.id);
  // Canceled or deleted meanwhile (perhaps by another replica): that stands.
  if (signal.aborted || !current || isFinal(current.status)) return;
  const finishedAt = new Date();
  const finished: JobRecord = {
    ...current,
    ...outcome,
    finished_at: finishedAt.toISOString(),
    expires_at: new Date(finishedAt.getTime() + deps.config.resultTtlS * 1000).toISOString(),
    version: current.version + 1,
  };
  await store.save(finished);
  jobLog.info({ status: finished.status, ms: finishedAt.getTime() - Date.parse(job.started_at!) }, 'job finished');
  deps.finished(finished);
}

/** Where queued jobs wait and are started from: in process (embedded) or on Redis (BullMQ). */
export interface JobQueue {
  /** Starts taking jobs (those an earlier process left too, for the embedded queue). */
  start(): Promise<void>;
  enqueue(job: JobRecord): Promise<void>;
  /** Takes a queued job out, or abandons a running one's call (wherever it runs). */
  withdraw(id: string): Promise<void>;
  /** 1 for the next job of its kind to start; null when not queued. */
  position(job: JobRecord): Promise<number | null>;
  queuedOf(partner: string): Promise<number>;
  depth(kind: JobKindName): Promise<{ depth: number; oldestMs: number | undefined }>;
  /** Stops taking jobs; calls in flight are abandoned, their jobs left to run again. */
  stop(): Promise<void>;
}
