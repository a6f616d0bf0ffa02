import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { envPrefix } from '../services/descriptor.js';
import { SERVICES, type BackendName } from '../services/index.js';

const MiB = 1024 * 1024;

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const hostPortList = z.string().transform((value, ctx) => {
  const out: Array<{ host: string; port: number }> = [];
  for (const item of value.split(',').map((s) => s.trim())) {
    // host:port, [v6]:port
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(item);
    const host = m?.[1] ?? m?.[2];
    const port = m ? Number(m[3]) : 0;
    if (!host || port < 1 || port > 65535) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not host:port` });
      return z.NEVER;
    }
    out.push({ host, port });
  }
  return out;
});

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** An address, a CIDR (`10.0.0.0/8`, `fd00::/8`) or one of proxy-addr's names. */
function isProxySpec(item: string): boolean {
  if (PROXY_NAMES.includes(item)) return true;
  const [addr, bits, ...rest] = item.split('/');
  const family = isIP(addr ?? '');
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

// A hop count, or the list of trusted proxies. `true` (every peer) is refused on purpose: it
// would let any client choose the address its limits and logs are kept under.
const trustProxy = z.string().transform((value, ctx): string[] | number => {
  if (/^\d+$/.test(value)) return Number(value);
  const items = value.split(',').map((s) => s.trim());
  const bad = items.find((item) => !isProxySpec(item));
  if (bad !== undefined) {
    ctx.addIssue({ code: 'custom', message: `"${bad}" is not an address, a CIDR, loopback, linklocal, uniquelocal, or a hop count` });
    return z.NEVER;
  }
  return items;
});

const corsOrigins = z.string().transform((value, ctx) => {
  const out: string[] = [];
  for (const item of value.split(',').map((s) => s.trim())) {
    // What a browser sends in Origin: scheme://host[:port], nothing after.
    let origin: string | undefined;
    try {
      const url = new URL(item);
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === item.replace(/\/$/, '')) origin = url.origin;
    } catch {
      // not a URL: refused below
    }
    if (!origin) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not an origin such as https://app.example.com` });
      return z.NEVER;
    }
    out.push(origin);
  }
  return out;
});

/**
 * One backend's variables, without their prefix: the loader hands each backend the variables
 * that start with `KEYPOINT_`, `IMAGE3D_`, ... with the prefix taken off, so that one schema
 * serves every backend and its output is typed without listing keys built at run time.
 */
function backendSchema<N extends BackendName>(name: N, defaults: { timeoutMs: number; maxReplyBytes: number }) {
  return z
    .object({
      BACKENDS: hostPortList.optional(),
      TIMEOUT_MS: int(1, 3_600_000).default(defaults.timeoutMs),
      MAX_REPLY_BYTES: int(1024, 2047 * MiB).default(defaults.maxReplyBytes),
      TRANSPORT: z.enum(['framed', 'buffered']).default('framed'),
      PROTOCOL: z.enum(['binary', 'compact']).default('binary'),
      MAX_CONNECTIONS: int(1, 1024).default(32),
      MAX_QUEUE: int(0, 100_000).default(64),
    })
    .transform((e) => ({
      name,
      /** Unset: `npm start` launches the built-in reference backend and fills this in. */
      instances: e.BACKENDS,
      /** Served by the built-in reference backend (a CPU stand-in), not a real one: set by `npm start`. */
      reference: false as boolean,
      timeoutMs: e.TIMEOUT_MS,
      transport: e.TRANSPORT,
      protocol: e.PROTOCOL,
      maxConnections: e.MAX_CONNECTIONS,
      maxQueue: e.MAX_QUEUE,
      /** The largest reply taken from it (RPC_MAX_FRAME_BYTES caps every backend's too). */
      maxReplyBytes: e.MAX_REPLY_BYTES,
    }));
}

/** Every service's variables, from its descriptor (services/index.ts). */
function backendsSchema() {
  const shape = Object.fromEntries(SERVICES.map((s) => [s.name, backendSchema(s.name, s.defaults)]));
  return z.object(shape as { [B in BackendName]: ReturnType<typeof backendSchema<B>> });
}

/** The variables of one service, by their full names (`KEYPOINT_BACKENDS`, ...), from its schema. */
export const backendVariables = (service: (typeof SERVICES)[number]): string[] =>
  Object.keys(backendSchema(service.name, service.defaults).in.shape).map((key) => envPrefix(service.name) + key);

/**
 * The gateway's configuration from its environment. Its input is the environment with each
 * backend's variables also under `backends.<name>` (see load.ts); its output is `Config`.
 */
export const configSchema = z
  .object({
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: int(0, 65535).default(8080),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    BASE_CALLER: z.string().min(1).max(128).default('visiongate'),
    MAX_IMAGE_BYTES: int(1024, 1024 * MiB).default(15 * MiB),
    MAX_ARCHIVE_BYTES: int(1024, 1536 * MiB).default(200 * MiB),
    ARCHIVE_MAX_ENTRIES: int(1, 100_000).default(1000),
    ARCHIVE_MAX_ENTRY_BYTES: int(1024, 1024 * MiB).default(64 * MiB),
    ARCHIVE_MAX_TOTAL_BYTES: int(1024, 16 * 1024 * MiB).default(1024 * MiB),
    ARCHIVE_MAX_RATIO: int(1, 100_000).default(100),
    // Photos barely compress (a JPEG or PNG is compressed already): 10 leaves room for other
    // files, and keeps what an upload inflates to within ten times its size.
    ARCHIVE_MAX_TOTAL_RATIO: int(1, 100_000).default(10),
    RPC_MAX_FRAME_BYTES: int(1024, 2047 * MiB).default(512 * MiB),
    RPC_CONNECT_TIMEOUT_MS: int(1, 60_000).default(1000),
    DRAIN_DELAY_MS: int(0, 600_000).default(1000),
    DRAIN_TIMEOUT_MS: int(1, 3_600_000).default(30_000),
    RPC_QUEUE_TIMEOUT_MS: int(1, 3_600_000).default(2000),
    RPC_RESOLVE_INTERVAL_MS: int(100, 3_600_000).default(10_000),
    MAX_INFLIGHT_REQUEST_BYTES: int(1024, 64 * 1024 * MiB).default(1024 * MiB),
    MAX_EVENT_LOOP_DELAY_MS: int(0, 60_000).default(1000),
    BODY_MIN_BYTES_PER_SECOND: int(0, 1024 * MiB).default(4096),
    BODY_RATE_WINDOW_MS: int(100, 3_600_000).default(30_000),
    BODY_MAX_PAUSE_MS: int(100, 3_600_000).default(30_000),
    // 200 MB (MAX_ARCHIVE_BYTES) takes 10 minutes at 2.7 Mbit/s.
    BODY_TIMEOUT_MS: int(100, 24 * 3_600_000).default(600_000),
    BODY_DRAIN_MS: int(0, 3_600_000).default(30_000),
    // Longer than a load balancer's idle timeout (60 s on most), so that it closes first.
    KEEP_ALIVE_TIMEOUT_MS: int(100, 3_600_000).default(72_000),
    MAX_HEAP_USED_BYTES: int(0, 64 * 1024 * MiB).default(0),
    API_KEYS_FILE: z.string().optional(),
    API_KEYS: z.string().optional(),
    RATE_LIMIT_RPS: int(0, 1_000_000).default(0),
    RATE_LIMIT_CONCURRENT: int(0, 1_000_000).default(0),
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
    METRICS_PORT: int(0, 65535).optional(),
    JOB_STORE_DIR: z.string().min(1).default('data/jobs'),
    JOB_RESULT_TTL_S: int(1, 365 * 86400).default(86400),
    JOBS_MAX_QUEUED_PER_PARTNER: int(1, 1_000_000).default(100),
    JOBS_MAX_RUNNING_PER_PARTNER: int(1, 100_000).default(4),
    JOB_EVENTS_KEEPALIVE_S: int(1, 3600).default(15),
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: z.enum(['true', 'false']).default('false'),
    // The Standard Webhooks schedule after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    WEBHOOK_RETRY_DELAYS_S: z
      .string()
      .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'must be comma-separated seconds, such as 5,300,1800')
      .transform((v) => v.split(',').map(Number))
      .default([5, 300, 1800, 7200, 18000, 36000, 36000]),
    WEBHOOK_TIMEOUT_S: int(1, 300).default(10),
    JOBS_ROLE: z.enum(['api', 'worker', 'both']).default('both'),
    JOBS_LOCK_MS: int(1000, 3_600_000).default(30_000),
    JOB_S3_BUCKET: z.string().min(1).optional(),
    JOB_S3_PREFIX: z.string().default('visiongate/jobs/'),
    JOB_S3_REGION: z.string().min(1).default('us-east-1'),
    JOB_S3_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
    JOB_S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('false'),
    RPC_EJECT_AFTER_FAILURES: int(1, 1000).default(3),
    RPC_EJECT_BASE_MS: int(1, 3_600_000).default(1000),
    RPC_EJECT_MAX_MS: int(1, 3_600_000).default(30_000),
    NODE_ENV: z.string().optional(),
    REFERENCE_BACKENDS: z.enum(['true', 'false']).optional(),
    TRUST_PROXY: trustProxy.optional(),
    CORS_ORIGINS: corsOrigins.optional(),
    // Gateway processes sharing the port (node:cluster); `auto`: one per core this process may use.
    // Usage for billing: on disk without REDIS_URL (each process its own files), else in Redis.
    USAGE_DIR: z.string().min(1).default('data/usage'),
    USAGE_FLUSH_MS: int(10, 60_000).default(1000),
    USAGE_RETENTION_DAYS: int(1, 3650).default(400),
    WORKERS: z.union([z.literal('auto').transform(() => availableParallelism()), int(1, 1024)]).default(1),
    backends: backendsSchema(),
  })
  // A stand-in serving partners by accident is worse than not starting: in production the
  // reference backends are there only when asked for.
  .superRefine((e, ctx) => {
    const references = e.REFERENCE_BACKENDS === undefined ? e.NODE_ENV !== 'production' : e.REFERENCE_BACKENDS === 'true';
    const why = e.REFERENCE_BACKENDS === 'false' ? 'REFERENCE_BACKENDS=false' : 'NODE_ENV=production';
    for (const { name, reference } of SERVICES) {
      if (e.backends[name].instances || (references && reference)) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['backends', name, 'BACKENDS'],
        message: reference
          ? `must be set with ${why} (or REFERENCE_BACKENDS=true to run the built-in reference backend instead)`
          : `must be set: ${name} has no built-in reference backend`,
      });
    }
  })
  .transform((e) => ({
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    caller: e.BASE_CALLER,
    maxImageBytes: e.MAX_IMAGE_BYTES,
    /** Largest capture-set upload (zip or multipart); its JSON limit follows from it. */
    maxArchiveBytes: e.MAX_ARCHIVE_BYTES,
    archive: {
      maxEntries: e.ARCHIVE_MAX_ENTRIES,
      maxEntryBytes: e.ARCHIVE_MAX_ENTRY_BYTES,
      maxTotalBytes: e.ARCHIVE_MAX_TOTAL_BYTES,
      maxRatio: e.ARCHIVE_MAX_RATIO,
      maxTotalRatio: e.ARCHIVE_MAX_TOTAL_RATIO,
    },
    /** Bytes the gateway accepts in one reply frame from a backend. */
    maxFrameBytes: e.RPC_MAX_FRAME_BYTES,
    connectTimeoutMs: e.RPC_CONNECT_TIMEOUT_MS,
    queueTimeoutMs: e.RPC_QUEUE_TIMEOUT_MS,
    /** How often backend host names are resolved again. */
    resolveIntervalMs: e.RPC_RESOLVE_INTERVAL_MS,
    /** Shutdown: how long to keep serving with readiness at 503 before the listener closes. */
    drainDelayMs: e.DRAIN_DELAY_MS,
    /** Shutdown: how long in-flight requests get after that before the process exits anyway. */
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    /** Request bytes (by Content-Length) the process holds at once; past it, 503 at once. */
    maxInflightBytes: e.MAX_INFLIGHT_REQUEST_BYTES,
    /** How request bodies must keep arriving, and how long a refused one is read and dropped (docs/hostile-input.md). */
    body: {
      /** Average bytes per second a body must reach over each `rateWindowMs`. */
      minBytesPerSecond: e.BODY_MIN_BYTES_PER_SECOND,
      rateWindowMs: e.BODY_RATE_WINDOW_MS,
      /** Longest time without a byte of the body. */
      maxPauseMs: e.BODY_MAX_PAUSE_MS,
      /** Longest time a whole body may take. */
      timeoutMs: e.BODY_TIMEOUT_MS,
      /** How long the rest of a refused body is read and dropped, so that its client can read the answer. */
      drainMs: e.BODY_DRAIN_MS,
    },
    /** How long an idle keep-alive connection is kept open. */
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    /** Event-loop delay and heap use past which requests are shed (0: not checked). */
    maxEventLoopDelayMs: e.MAX_EVENT_LOOP_DELAY_MS,
    maxHeapUsedBytes: e.MAX_HEAP_USED_BYTES,
    ejection: { afterFailures: e.RPC_EJECT_AFTER_FAILURES, baseMs: e.RPC_EJECT_BASE_MS, maxMs: e.RPC_EJECT_MAX_MS },
    backends: e.backends,
    /** Where the accepted API keys are; read by `loadKeys` (load.ts), not by the parse. */
    apiKeys: { file: e.API_KEYS_FILE, inline: e.API_KEYS },
    /** Limits of a partner without its own. */
    defaultLimits: { requestsPerSecond: e.RATE_LIMIT_RPS, maxConcurrent: e.RATE_LIMIT_CONCURRENT },
    /** Where rate-limit counters live when several replicas share them; in memory when undefined. */
    redisUrl: e.REDIS_URL,
    /** A port of its own for GET /metrics, off the public one; undefined: on the main port. */
    metricsPort: e.METRICS_PORT,
    /**
     * The proxies whose X-Forwarded-For is believed (fastify's trustProxy): addresses, CIDRs or
     * proxy-addr's names (loopback, linklocal, uniquelocal), or a hop count; undefined: none.
     */
    trustProxy: e.TRUST_PROXY,
    /** Origins whose pages may call the API from a browser (CORS); empty: none. */
    corsOrigins: e.CORS_ORIGINS ?? [],
    /** Usage for billing: where it is kept without Redis, how often counts are written, how long Redis keeps a day. */
    usage: { dir: e.USAGE_DIR, flushMs: e.USAGE_FLUSH_MS, retentionDays: e.USAGE_RETENTION_DAYS },
    /** Gateway processes sharing the port; 1: this process serves alone. */
    workers: e.WORKERS,
    /** Jobs: long work accepted at once and run in the background (docs/jobs.md). */
    jobs: {
      /** Where the embedded job store and the directory blob store live. */
      storeDir: e.JOB_STORE_DIR,
      /** How long a finished job's result (and its input) is kept. */
      resultTtlS: e.JOB_RESULT_TTL_S,
      /** Queued jobs a partner may have at once; past it, 429 TOO_MANY_JOBS. */
      maxQueuedPerPartner: e.JOBS_MAX_QUEUED_PER_PARTNER,
      /** Jobs of one partner running at once; the rest wait their turn. */
      maxRunningPerPartner: e.JOBS_MAX_RUNNING_PER_PARTNER,
      /** Seconds between keep-alive comments on an events stream. */
      eventsKeepAliveS: e.JOB_EVENTS_KEEPALIVE_S,
      /** With REDIS_URL: whether this replica accepts and answers only (api), runs jobs only (worker), or both. */
      role: e.JOBS_ROLE,
      /** With REDIS_URL: how long a silent (killed) replica's job stays locked before another takes it over. */
      lockMs: e.JOBS_LOCK_MS,
      /** Inputs and results in an S3 bucket instead of JOB_STORE_DIR/blobs; undefined: the directory. */
      s3: e.JOB_S3_BUCKET
        ? { bucket: e.JOB_S3_BUCKET, prefix: e.JOB_S3_PREFIX, region: e.JOB_S3_REGION, endpoint: e.JOB_S3_ENDPOINT, forcePathStyle: e.JOB_S3_FORCE_PATH_STYLE === 'true' }
        : undefined,
      webhooks: {
        /** Whether webhook URLs may point at loopback, private or link-local addresses. */
        allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS === 'true',
        /** Seconds before each retry of a failed delivery; past the last, it is given up. */
        retryDelaysS: e.WEBHOOK_RETRY_DELAYS_S,
        timeoutS: e.WEBHOOK_TIMEOUT_S,
      },
    },
  }));

export type Config = z.output<typeof configSchema>;
export type BackendConfig = Config['backends'][BackendName];
export type HostPort = NonNullable<BackendConfig['instances']>[number];
export type TransportKind = BackendConfig['transport'];
export type ProtocolKind = BackendConfig['protocol'];
export type JobsConfig = Config['jobs'];
export type BodyTiming = Config['body'];
