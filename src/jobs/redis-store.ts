import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { ConfigError } from '../config/load.js';
import { watchRedis } from '../redis-options.js';
import type { JobRecord, JobStatus } from './job.js';
import type { JobStore, KeyRecord, StoreEvents } from './store.js';

const P = 'visiongate:jobs:';
const CHANNEL = `${P}changes`;
/** How long a claim on an idempotency key lasts at most: the longest an upload is accepted. */
const CLAIM_MS = 10 * 60_000;

const hashed = (scoped: string) => createHash('sha256').update(scoped).digest('hex');

/**
 * Refuses a Redis that may evict keys: an evicted job is a job lost. INFO rather than CONFIG
 * GET, which managed Redis services often disable.
 */
export async function checkNoEviction(redis: Redis): Promise<void> {
  const info = await redis.info('memory');
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  if (policy !== 'noeviction') {
    throw new ConfigError(`invalid configuration: REDIS_URL: Redis has maxmemory-policy ${policy ?? 'unknown'}; jobs need noeviction (an evicted key would be a job lost)`);
  }
}

/**
 * Jobs' states in Redis, shared by every replica: each job a JSON string, an index per partner
 * and one of all (sorted by creation), idempotency keys that expire by themselves, and a
 * channel on which every save is announced to the other replicas (events, waits, cancels).
 */
export class RedisJobStore extends EventEmitter<StoreEvents> implements JobStore {
  private readonly redis: Redis;
  private readonly sub: Redis;
  /** Tells this process's own announcements from the others'. */
  private readonly origin = randomUUID();

  /** `onChange`: told when the store's connection to Redis is lost or back. */
  constructor(url: string, private readonly log: FastifyBaseLogger, onChange?: (up: boolean) => void) {
    super();
    this.setMaxListeners(0);
    this.redis = new Redis(url, { maxRetriesPerRequest: 3 });
    this.sub = new Redis(url, { maxRetriesPerRequest: 3 });
    watchRedis(this.redis, log, { use: 'jobs', whileDown: 'jobs cannot be stored or read until it is back', onceUp: 'jobs shared by every replica', onChange });
    watchRedis(this.sub, log, { use: 'jobs (changes)', whileDown: 'waits and events from other replicas resume when it is back', onceUp: 'hearing other replicas' });
  }

  /**
   * Checks the eviction policy (a wrong one stops the start). A Redis that cannot be reached
   * does not: the synchronous routes serve meanwhile, and the policy is checked when it answers.
   */
  async load(): Promise<void> {
    this.sub.on('message', (_channel: string, message: string) => {
      const m = JSON.parse(message) as { origin: string; job?: JobRecord; removed?: string };
      if (m.origin === this.origin) return;
      if (m.job) this.emit('change', m.job, false);
      else if (m.removed) this.emit('removed', m.removed);
    });
    const subscribe = () => this.sub.subscribe(CHANNEL).catch((err: Error) => this.log.warn({ err: err.message }, 'jobs: Redis subscribe failed'));
    try {
      await checkNoEviction(this.redis);
      await subscribe();
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      this.log.warn({ err: (err as Error).message }, 'jobs: Redis unreachable at start; jobs wait for it, its eviction policy is checked when it answers');
      this.redis.once('ready', () => {
        checkNoEviction(this.redis).catch((e: Error) => this.log.error({ err: e.message }, 'jobs: Redis may evict keys: jobs can be lost'));
      });
      // Once subscribed, ioredis subscribes again by itself after each reconnection.
      this.sub.once('ready', () => void subscribe());
    }
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const text = await this.redis.get(`${P}job:${id}`);
    return text ? (JSON.parse(text) as JobRecord) : undefined;
  }

  async save(job: JobRecord): Promise<void> {
    const score = Date.parse(job.created_at);
    await this.redis
      .multi()
      .set(`${P}job:${job.id}`, JSON.stringify(job))
      .zadd(`${P}partner:${job.partner}`, score, job.id)
      .zadd(`${P}all`, score, job.id)
      .publish(CHANNEL, JSON.stringify({ origin: this.origin, job }))
      .exec();
    this.emit('change', job, true);
  }

  async remove(id: string): Promise<void> {
    const job = await this.get(id);
    const tx = this.redis.multi().del(`${P}job:${id}`).zrem(`${P}all`, id);
    if (job) tx.zrem(`${P}partner:${job.partner}`, id);
    await tx.publish(CHANNEL, JSON.stringify({ origin: this.origin, removed: id })).exec();
    this.emit('removed', id);
  }

  async ofPartner(partner: string, status?: JobStatus): Promise<JobRecord[]> {
    const jobs = await this.many(await this.redis.zrange(`${P}partner:${partner}`, 0, -1));
    return jobs.filter((j) => status === undefined || j.status === status);
  }

  async all(): Promise<JobRecord[]> {
    return this.many(await this.redis.zrange(`${P}all`, 0, -1));
  }

  private async many(ids: string[]): Promise<JobRecord[]> {
    const out: JobRecord[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const texts = await this.redis.mget(ids.slice(i, i + 500).map((id) => `${P}job:${id}`));
      for (const text of texts) if (text) out.push(JSON.parse(text) as JobRecord);
    }
    return out;
  }

  async getKey(scoped: string): Promise<KeyRecord | undefined> {
    const text = await this.redis.get(`${P}key:${hashed(scoped)}`);
    return text ? (JSON.parse(text) as KeyRecord) : undefined;
  }

  async saveKey(scoped: string, record: KeyRecord): Promise<void> {
    await this.redis.set(`${P}key:${hashed(scoped)}`, JSON.stringify(record), 'PX', Math.max(1, Date.parse(record.expires_at) - Date.now()));
  }

  async removeKey(scoped: string): Promise<void> {
    await this.redis.del(`${P}key:${hashed(scoped)}`);
  }

  /** Redis forgets keys past their lifetime by itself. */
  async sweepKeys(): Promise<void> {}

  async claim(scoped: string): Promise<boolean> {
    return (await this.redis.set(`${P}claim:${hashed(scoped)}`, this.origin, 'PX', CLAIM_MS, 'NX')) === 'OK';
  }

  async release(scoped: string): Promise<void> {
    await this.redis.del(`${P}claim:${hashed(scoped)}`);
  }

  async records<T>(sub: string): Promise<Map<string, T>> {
    const all = await this.redis.hgetall(`${P}records:${sub}`);
    return new Map(Object.entries(all).map(([k, v]) => [k, JSON.parse(v) as T]));
  }

  async saveRecord(sub: string, name: string, value: unknown): Promise<void> {
    if (value === undefined) await this.redis.hdel(`${P}records:${sub}`, name);
    else await this.redis.hset(`${P}records:${sub}`, name, JSON.stringify(value));
  }

  /** A connection for other parts that keep their state beside the jobs (the queue's sets). */
  get client(): Redis {
    return this.redis;
  }

  async close(): Promise<void> {
    this.sub.disconnect();
    this.redis.disconnect();
  }
}
