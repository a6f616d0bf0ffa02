/** What is counted per partner, route and UTC day: the answer of GET /v1/usage and the export. */
export const USAGE_FIELDS = ['requests', 'succeeded', 'client_errors', 'server_errors', 'bytes_in', 'bytes_out', 'images', 'backend_ms', 'jobs'] as const;
export type UsageField = (typeof USAGE_FIELDS)[number];
export type UsageCounts = Record<UsageField, number>;

/** One partner's figures for one route on one day. */
export interface UsageRow {
  date: string;
  partner: string;
  route: string;
  counts: UsageCounts;
}

export const zeroCounts = (): UsageCounts => Object.fromEntries(USAGE_FIELDS.map((f) => [f, 0])) as UsageCounts;

export function addCounts(into: UsageCounts, more: Partial<UsageCounts>): UsageCounts {
  for (const field of USAGE_FIELDS) into[field] += more[field] ?? 0;
  return into;
}

/** A UTC day, in milliseconds (UTC has no daylight saving, and JavaScript time no leap seconds). */
export const DAY_MS = 86_400_000;

/** YYYY-MM-DD of a moment, in UTC. */
export const utcDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Every UTC date from `from` to `to`, both included. */
export function datesBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) out.push(utcDate(t));
  return out;
}

/** Rows with the same date, partner and route summed into one, sorted by date, partner, route. */
export function sumRows(rows: Iterable<UsageRow>): UsageRow[] {
  const by = new Map<string, UsageRow>();
  for (const row of rows) {
    const key = `${row.date}\t${row.partner}\t${row.route}`;
    const seen = by.get(key);
    if (seen) addCounts(seen.counts, row.counts);
    else by.set(key, { ...row, counts: addCounts(zeroCounts(), row.counts) });
  }
  return [...by.values()].sort((a, b) => a.date.localeCompare(b.date) || a.partner.localeCompare(b.partner) || a.route.localeCompare(b.route));
}

/** Where usage is kept: shared by every replica (Redis) or by every process on one machine (disk). */
export interface UsageStore {
  /** Adds these rows' counts to what is kept. */
  add(rows: UsageRow[]): Promise<void>;
  /** Rows from `from` to `to` (UTC dates, both included), of one partner or of all. */
  read(from: string, to: string, partner?: string): Promise<UsageRow[]>;
  close(): Promise<void>;
}
