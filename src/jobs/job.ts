import { randomBytes } from 'node:crypto';
import type { Problem } from '../errors.js';

import { JOB_KINDS, type JobKindName } from '../services/index.js';

export { JOB_KINDS, type JobKindName };

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled', 'expired'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** States a job never leaves (but for expiry, which every finished job reaches). */
export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'canceled', 'expired']);
export const isFinal = (status: JobStatus): boolean => FINAL_STATUSES.has(status);

/** A job as the gateway keeps it; `publicJob` is what partners see. */
export interface JobRecord {
  id: string;
  kind: JobKindName;
  partner: string;
  status: JobStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  expires_at: string | null;
  /** The log id of the submitting request: every backend call of the job carries it. */
  logid: string;
  error: Problem | null;
  /** Grows by one at each change: the events stream's event id. */
  version: number;
  /** What the backend call's `Base` needs of the submitting request. */
  client_addr: string;
  traceparent?: string;
}

/** What partners see of a job (the OpenAPI `Job` schema). */
export interface PublicJob {
  id: string;
  kind: JobKindName;
  status: JobStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  expires_at: string | null;
  queue_position: number | null;
  logid: string;
  result_url: string | null;
  error: Problem | null;
}

/** 128 random bits, URL-safe: an id that cannot be guessed from another. */
export const newJobId = (): string => `job_${randomBytes(16).toString('base64url')}`;
export const JOB_ID = /^job_[A-Za-z0-9_-]{22}$/;

/** The longest `wait=N` honoured: past about a minute, proxies close idle requests anyway. */
export const MAX_WAIT_S = 60;
/** What `Retry-After` says while a job is queued or running. */
export const POLL_AFTER_S = 2;

export const jobUrl = (id: string): string => `/v1/jobs/${id}`;

export function publicJob(job: JobRecord, queuePosition: number | null): PublicJob {
  return {
    id: job.id,
    kind: job.kind,
    status: job.status,
    created_at: job.created_at,
    started_at: job.started_at,
    finished_at: job.finished_at,
    expires_at: job.expires_at,
    queue_position: job.status === 'queued' ? queuePosition : null,
    logid: job.logid,
    result_url: job.status === 'succeeded' ? `${jobUrl(job.id)}/result` : null,
    error: job.status === 'failed' ? job.error : null,
  };
}
