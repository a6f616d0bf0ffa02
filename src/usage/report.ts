// `npm run usage -- --from YYYY-MM-DD --to YYYY-MM-DD [--format csv|json]`: every partner's
// usage for an operator, one row per partner, UTC day and route, from where the gateway keeps
// it (Redis with REDIS_URL, else USAGE_DIR), configured by the same variables as the gateway.
// Part of the gateway's build (dist/usage/report.js), so that a production install, which has
// no tsx, runs it too: the npm script runs this source under tsx where tsx is installed, else
// the compiled file.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { ConfigError, loadConfig } from '../config/load.js';
import { REDIS_OPTIONS } from '../redis-options.js';
import { UsageQuery } from '../schemas/usage.js';
import { USAGE_FIELDS, utcDate, type UsageStore } from './counts.js';
import { DiskUsageStore } from './disk-store.js';
import { RedisUsageStore } from './redis-store.js';

const fail = (message: string): never => {
  console.error(`${message}\nusage: npm run usage -- --from YYYY-MM-DD --to YYYY-MM-DD [--format csv|json]`);
  process.exit(2);
};

const { values } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' }, format: { type: 'string', default: 'csv' } } });
const range = UsageQuery.safeParse({ from: values.from, to: values.to });
if (!range.success) fail(range.error.issues.map((i) => `--${i.path.join('.')} ${i.message}`).join('; '));
if (values.format !== 'csv' && values.format !== 'json') fail('--format must be csv or json');
const from = range.data!.from ?? utcDate(Date.now());
const to = range.data!.to ?? from;

let store: UsageStore;
try {
  const config = loadConfig();
  // A script waits for the connection and for its answers rather than failing fast.
  const patient = { ...REDIS_OPTIONS, enableOfflineQueue: true, commandTimeout: 30_000 };
  store = config.redisUrl ? new RedisUsageStore(new Redis(config.redisUrl, patient), config.usage.retentionDays) : new DiskUsageStore(config.usage.dir);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  fail(err.message);
}
const rows = await store!.read(from, to);
await store!.close();

if (values.format === 'json') {
  console.log(JSON.stringify(rows.map(({ date, partner, route, counts }) => ({ date, partner, route, ...counts })), null, 2));
} else {
  // RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
  const cell = (v: string | number) => (/[",\r\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));
  console.log(['date', 'partner', 'route', ...USAGE_FIELDS].join(','));
  for (const { date, partner, route, counts } of rows) console.log([date, partner, route, ...USAGE_FIELDS.map((f) => counts[f])].map(cell).join(','));
}
