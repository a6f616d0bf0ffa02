import { createHash } from 'node:crypto';
import { ApiError } from '../errors.js';
import type { JobStore, KeyRecord } from './store.js';

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
 * accepted (a second one meanwhile gets 409, on any replica), then the key names its job for
 * 24 hours.
 */
export class IdempotencyKeys {
  constructor(private readonly store: JobStore) {}

  /** Claims the key for a request now being accepted; `record` when the key already names a job. */
  async claim(partner: string, key: string): Promise<{ scoped: string; record?: KeyRecord }> {
    const scoped = `${partner}\n${key}`;
    const record = await this.store.getKey(scoped);
    if (record && Date.parse(record.expires_at) > Date.now() && (await this.store.get(record.job_id))) return { scoped, record };
    if (!(await this.store.claim(scoped))) throw new ApiError('IDEMPOTENCY_KEY_IN_USE');
    return { scoped };
  }

  release(scoped: string): Promise<void> {
    return this.store.release(scoped);
  }
}
