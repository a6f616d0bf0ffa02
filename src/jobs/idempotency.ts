import { createHash } from 'node:crypto';
import { ApiError } from '../errors.js';
import type { JobStore, KeyRecord } from './job-store.js';

/** How long an Idempotency-Key is remembered (the IETF httpapi draft leaves it to the server). */
export const KEY_LIFETIME_MS = 24 * 3600 * 1000;

/** The draft's Idempotency-Key is a structured-field string ("…"); a bare value is taken as well. */
const KEY = /^"?([\x20-\x21\x23-\x7e]{1,255})"?$/;

export function idempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = typeof header === 'string' ? KEY.exec(header) : null;
  if (!m) throw new ApiError('INVALID_ARGUMENT', 'Idempotency-Key must be one value of 1 to 255 printable ASCII characters.');
  return m[1];
}

/** What makes two submissions "the same request": the job kind and the validated input. */
export const fingerprint = (kind: string, packedInput: Buffer): string => createHash('sha256').update(kind).update('\0').update(packedInput).digest('hex');

/**
 * Idempotency keys of each partner: the first request with a key claims it while it is being
 * accepted (a second one meanwhile gets 409), then the key names its job for 24 hours.
 */
export class IdempotencyKeys {
  private readonly pending = new Set<string>();

  constructor(private readonly store: JobStore) {}

  /** Claims the key for a request now being accepted; undefined when the key already names a job. */
  claim(partner: string, key: string): { scoped: string; record?: KeyRecord } {
    const scoped = `${partner}\n${key}`;
    if (this.pending.has(scoped)) throw new ApiError('IDEMPOTENCY_KEY_IN_USE');
    const record = this.store.keys.get(scoped);
    if (record && Date.parse(record.expires_at) > Date.now() && this.store.get(record.job_id)) return { scoped, record };
    this.pending.add(scoped);
    return { scoped };
  }

  release(scoped: string): void {
    this.pending.delete(scoped);
  }

  /** Forgets keys past their lifetime. */
  async sweep(now = Date.now()): Promise<void> {
    for (const [scoped, record] of this.store.keys) if (Date.parse(record.expires_at) <= now) await this.store.removeKey(scoped);
  }
}
