import type { Redis } from 'ioredis';
import { datesBetween, sumRows, USAGE_FIELDS, zeroCounts, type UsageField, type UsageRow, type UsageStore } from './counts.js';

const key = (date: string) => `visiongate:usage:${date}`;

/**
 * Usage in Redis, shared by every replica: one hash per UTC day, a field per partner, route
 * and figure (`partner\troute\tfigure`), added to with HINCRBY, so replicas never overwrite
 * each other. Days are kept `retentionDays`.
 */
export class RedisUsageStore implements UsageStore {
  constructor(
    private readonly redis: Redis,
    private readonly retentionDays: number,
  ) {}

  async add(rows: UsageRow[]): Promise<void> {
    const tx = this.redis.multi();
    for (const { date, partner, route, counts } of rows) {
      for (const field of USAGE_FIELDS) if (counts[field]) tx.hincrby(key(date), `${partner}\t${route}\t${field}`, Math.round(counts[field]));
      tx.expire(key(date), this.retentionDays * 86_400);
    }
    const results = await tx.exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw failed?.[0] ?? new Error('the usage transaction was discarded');
  }

  async read(from: string, to: string, partner?: string): Promise<UsageRow[]> {
    const rows: UsageRow[] = [];
    for (const date of datesBetween(from, to)) {
      const byRoute = new Map<string, UsageRow>();
      for (const [field, value] of Object.entries(await this.redis.hgetall(key(date)))) {
        const [who, route, figure] = field.split('\t') as [string, string, UsageField];
        if (partner !== undefined && who !== partner) continue;
        const id = `${who}\t${route}`;
        let row = byRoute.get(id);
        if (!row) byRoute.set(id, (row = { date, partner: who, route, counts: zeroCounts() }));
        if (figure in row.counts) row.counts[figure] += Number(value);
      }
      rows.push(...byRoute.values());
    }
    return sumRows(rows);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
