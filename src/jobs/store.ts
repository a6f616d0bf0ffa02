import type { EventEmitter } from 'node:events';
import type { JobRecord, JobStatus } from './job.js';

/** An Idempotency-Key as kept: which job it made, from which request. */
export interface KeyRecord {
  fingerprint: string;
  job_id: string;
  expires_at: string;
}

export interface StoreEvents {
  /** A job was saved; `local` when by this process (webhooks are sent by that one only). */
  change: [job: JobRecord, local: boolean];
  removed: [id: string];
}

/**
 * Where jobs' states live: on disk for one process (FileJobStore), or in Redis for many
 * (RedisJobStore). Changes are announced to every process that has the store open.
 */
export interface JobStore extends EventEmitter<StoreEvents> {
  load(): Promise<void>;
  get(id: string): Promise<JobRecord | undefined>;
  save(job: JobRecord): Promise<void>;
  remove(id: string): Promise<void>;
  /** A partner's jobs (any order), of one status when given. */
  ofPartner(partner: string, status?: JobStatus): Promise<JobRecord[]>;
  /** Every job: for expiry and metrics. */
  all(): Promise<JobRecord[]>;
  getKey(scoped: string): Promise<KeyRecord | undefined>;
  saveKey(scoped: string, record: KeyRecord): Promise<void>;
  removeKey(scoped: string): Promise<void>;
  /** Keys past their lifetime are forgotten (Redis lets them expire by themselves). */
  sweepKeys(now: number): Promise<void>;
  /** Marks a key as being accepted; false when another request holds it. */
  claim(scoped: string): Promise<boolean>;
  release(scoped: string): Promise<void>;
  /** Records of another kind (webhook deliveries) by name. */
  records<T>(sub: string): Promise<Map<string, T>>;
  /** Stores (or, with undefined, deletes) one such record. */
  saveRecord(sub: string, name: string, value: unknown): Promise<void>;
  close(): Promise<void>;
}
