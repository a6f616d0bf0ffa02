import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** How a key is kept: its SHA-256, never the key itself. */
export const hashKey = (key: string): string => `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;

/** A new key: 32 random bytes, URL-safe, with a prefix that makes a leaked one easy to find. */
export const newKey = (): string => `vg_${randomBytes(32).toString('base64url')}`;

export interface PartnerLimits {
  /** Requests per second (0: no limit). */
  requestsPerSecond: number;
  /** Requests in flight at once (0: no limit). */
  maxConcurrent: number;
}

/** Where a partner's job notifications go, signed with its secret (Standard Webhooks). */
export interface PartnerWebhook {
  url: string;
  /** `whsec_` and the base64 key. */
  secret: string;
}

export interface Partner {
  id: string;
  /** This partner's own limits, where they differ from the defaults. */
  limits: Partial<PartnerLimits>;
  webhook?: PartnerWebhook;
}

const HASH = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be "sha256:" and 64 hex digits (npm run api-key -- hash KEY)');
const PARTNER_ID = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'partner ids are 1 to 64 of A-Z a-z 0-9 _ . -');
const limit = z.number().int().min(0).max(1_000_000).optional();

export const KeysFileSchema = z.strictObject({
  partners: z.record(
    PARTNER_ID,
    z.strictObject({
      keys: z.array(HASH).default([]),
      revoked_keys: z.array(HASH).default([]),
      requests_per_second: limit,
      max_concurrent: limit,
      webhook: z
        .strictObject({
          url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
          secret: z
            .string()
            .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be "whsec_" and base64')
            .refine((s) => Buffer.from(s.slice('whsec_'.length), 'base64').length >= 24, 'must hold at least 24 random bytes (Standard Webhooks)'),
        })
        .optional(),
    }),
  ),
});

type Verdict = { partner: Partner } | { revoked: true } | undefined;

/**
 * The keys the gateway accepts, as hashes. A key is found by comparing its hash with every
 * stored one in constant time, without stopping at a match, so that timing tells nothing.
 */
export class KeyRing {
  private readonly entries: Array<{ hash: Buffer; partner: Partner; revoked: boolean }> = [];
  readonly partners = new Map<string, Partner>();

  add(partnerId: string, hash: string, revoked = false, limits: Partial<PartnerLimits> = {}): void {
    let partner = this.partners.get(partnerId);
    if (!partner) this.partners.set(partnerId, (partner = { id: partnerId, limits }));
    else Object.assign(partner.limits, limits);
    this.entries.push({ hash: Buffer.from(hash.slice('sha256:'.length), 'hex'), partner, revoked });
  }

  get size(): number {
    return this.entries.length;
  }

  verify(key: string): Verdict {
    const presented = Buffer.from(hashKey(key).slice('sha256:'.length), 'hex');
    let found: (typeof this.entries)[number] | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.hash, presented) && !found) found = entry;
    }
    if (!found) return undefined;
    return found.revoked ? { revoked: true } : { partner: found.partner };
  }
}

/**
 * The key ring from `API_KEYS_FILE` (JSON, see README) and `API_KEYS`
 * (`partner=sha256:hex,...`), or undefined when neither is set: keys are then not asked for.
 */
export function loadKeyRing(file: string | undefined, inline: string | undefined): KeyRing | undefined {
  if (!file && !inline) return undefined;
  const ring = new KeyRing();
  if (file) {
    let parsed;
    try {
      parsed = KeysFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    } catch (err) {
      const why = err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (err as Error).message;
      throw new Error(`API_KEYS_FILE ${file}: ${why}`);
    }
    for (const [id, p] of Object.entries(parsed.partners)) {
      const limits: Partial<PartnerLimits> = {
        ...(p.requests_per_second === undefined ? {} : { requestsPerSecond: p.requests_per_second }),
        ...(p.max_concurrent === undefined ? {} : { maxConcurrent: p.max_concurrent }),
      };
      for (const hash of p.keys) ring.add(id, hash, false, limits);
      for (const hash of p.revoked_keys) ring.add(id, hash, true, limits);
      const partner = ring.partners.get(id);
      if (partner && p.webhook) partner.webhook = p.webhook;
    }
  }
  for (const item of inline ? inline.split(',').map((s) => s.trim()).filter(Boolean) : []) {
    const [id = '', hash = ''] = item.split('=');
    if (!PARTNER_ID.safeParse(id).success || !HASH.safeParse(hash).success) {
      throw new Error(`API_KEYS: "${item.slice(0, 20)}…" is not partner=sha256:<64 hex digits>`);
    }
    ring.add(id, hash);
  }
  if (ring.size === 0) throw new Error('API_KEYS_FILE/API_KEYS: no keys; with none, no request could pass');
  return ring;
}
