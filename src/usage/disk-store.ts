import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { datesBetween, sumRows, type UsageRow, type UsageStore } from './counts.js';

/**
 * Usage on local disk, for the embedded default (no REDIS_URL). Each process appends to files
 * of its own (`<date>.<host>-<pid>-<random>.jsonl`, one JSON line per row and flush), so that
 * several workers or a restarted process never write the same file; reading sums every file
 * of the days asked for. A line cut short by a crash is skipped.
 */
export class DiskUsageStore implements UsageStore {
  private readonly writer = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private ready: Promise<unknown> | undefined;

  constructor(private readonly dir: string) {}

  async add(rows: UsageRow[]): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true });
    await this.ready;
    const byDate = new Map<string, string[]>();
    for (const row of rows) byDate.set(row.date, [...(byDate.get(row.date) ?? []), `${JSON.stringify(row)}\n`]);
    for (const [date, lines] of byDate) await appendFile(join(this.dir, `${date}.${this.writer}.jsonl`), lines.join(''));
  }

  async read(from: string, to: string, partner?: string): Promise<UsageRow[]> {
    const dates = new Set(datesBetween(from, to));
    const files = (await readdir(this.dir).catch(() => [] as string[])).filter((f) => f.endsWith('.jsonl') && dates.has(f.slice(0, 10)));
    const rows: UsageRow[] = [];
    for (const file of files) {
      for (const line of (await readFile(join(this.dir, file), 'utf8')).split('\n')) {
        if (!line) continue;
        let row: UsageRow;
        try {
          row = JSON.parse(line) as UsageRow;
        } catch {
          continue; // the last line of a process that died while writing it
        }
        if (partner === undefined || row.partner === partner) rows.push(row);
      }
    }
    return sumRows(rows);
  }

  async close(): Promise<void> {}
}
