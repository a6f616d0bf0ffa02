import type { Redis } from 'ioredis';

/** Counts a partner's requests in flight; `acquire` says whether one more may start. */
export interface ConcurrencyStore {
  acquire(partner: string, id: string, max: number): Promise<boolean>;
  release(partner: string, id: string): Promise<void>;
}

export class MemoryConcurrency implements ConcurrencyStore {
  private readonly inFlight = new Map<string, number>();

  async acquire(partner: string, _id: string, max: number): Promise<boolean> {
    const n = this.inFlight.get(partner) ?? 0;
    if (n >= max) return false;
    this.inFlight.set(partner, n + 1);
    return true;
  }

  async release(partner: string): Promise<void> {
    const n = (this.inFlight.get(partner) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(partner);
    else this.inFlight.set(partner, n);
  }
}

// A sorted set per partner of the requests in flight, scored by their start (Redis's clock, so
// replicas' clocks do not matter). Entries older than the TTL are dropped first: the slots of
// a replica that died mid-request come back on their own.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`;

/** In Redis, shared by every replica pointed at it. */
export class RedisConcurrency implements ConcurrencyStore {
  constructor(
    private readonly redis: Redis,
    /** How long a slot is held at most: longer than any request can last. */
    private readonly slotTtlMs: number,
    private readonly prefix = 'visiongate:inflight:',
  ) {}

  async acquire(partner: string, id: string, max: number): Promise<boolean> {
    return (await this.redis.eval(ACQUIRE, 1, this.prefix + partner, this.slotTtlMs, max, id)) === 1;
  }

  async release(partner: string, id: string): Promise<void> {
    await this.redis.zrem(this.prefix + partner, id);
  }
}
