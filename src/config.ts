import { loadKeyRing, type KeyRing, type PartnerLimits } from './partners/api-keys.js';
import { z } from 'zod';
import type { ZipLimits } from './input/zip.js';
import type { EjectionPolicy } from './rpc/instance-health.js';

/** The backends the gateway fronts; each has its own env prefix (KEYPOINT_BACKENDS, ...). */
export const BACKEND_NAMES = ['keypoint', 'image3d', 'arscan'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export type TransportKind = 'framed' | 'buffered';
export type ProtocolKind = 'binary' | 'compact';

export interface HostPort {
  host: string;
  port: number;
}

export interface BackendConfig {
  name: BackendName;
  /** Unset: `npm start` launches the built-in reference backend and fills this in. */
  instances: HostPort[] | undefined;
  timeoutMs: number;
  transport: TransportKind;
  protocol: ProtocolKind;
  maxConnections: number;
  maxQueue: number;
}

export interface Config {
  host: string;
  port: number;
  logLevel: string;
  caller: string;
  maxImageBytes: number;
  /** Largest capture-set upload (zip or multipart); its JSON limit follows from it. */
  maxArchiveBytes: number;
  archive: ZipLimits;
  /** Bytes the gateway accepts in one reply frame from a backend. */
  maxFrameBytes: number;
  connectTimeoutMs: number;
  queueTimeoutMs: number;
  /** How often backend host names are resolved again. */
  resolveIntervalMs: number;
  /** Request bytes (by Content-Length) the process holds at once; past it, 503 at once. */
  maxInflightBytes: number;
  /** Event-loop delay and heap use past which requests are shed (0: not checked). */
  maxEventLoopDelayMs: number;
  maxHeapUsedBytes: number;
  /** Shutdown: how long to keep serving with readiness at 503 before the listener closes. */
  drainDelayMs: number;
  /** Shutdown: how long in-flight requests get after that before the process exits anyway. */
  drainTimeoutMs: number;
  ejection: EjectionPolicy;
  backends: Record<BackendName, BackendConfig>;
  /** Accepted API keys; undefined when keys are not asked for (the default). */
  keys: KeyRing | undefined;
  /** Limits of a partner without its own. */
  defaultLimits: PartnerLimits;
  /** Where rate-limit counters live when several replicas share them; in memory when undefined. */
  redisUrl: string | undefined;
  /** A port of its own for GET /metrics, off the public one; undefined: on the main port. */
  metricsPort: number | undefined;
}

const MiB = 1024 * 1024;

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const hostPortList = z
  .string()
  .transform((value, ctx) => {
    const out: HostPort[] = [];
    for (const item of value.split(',').map((s) => s.trim())) {
      // host:port, [v6]:port
      const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(item);
      const port = m ? Number(m[3]) : 0;
      if (!m || port < 1 || port > 65535) {
        ctx.addIssue({ code: 'custom', message: `"${item}" is not host:port` });
        return z.NEVER;
      }
      out.push({ host: m[1] ?? m[2]!, port });
    }
    return out;
  });

// A real reconstruction takes minutes on a GPU queue.
const DEFAULT_TIMEOUT_MS: Record<BackendName, number> = { keypoint: 10_000, image3d: 10_000, arscan: 300_000 };

function backendSchema(name: BackendName) {
  const p = name.toUpperCase();
  return {
    [`${p}_BACKENDS`]: hostPortList.optional(),
    [`${p}_TIMEOUT_MS`]: int(1, 3_600_000).default(DEFAULT_TIMEOUT_MS[name]),
    [`${p}_TRANSPORT`]: z.enum(['framed', 'buffered']).default('framed'),
    [`${p}_PROTOCOL`]: z.enum(['binary', 'compact']).default('binary'),
    [`${p}_MAX_CONNECTIONS`]: int(1, 1024).default(32),
    [`${p}_MAX_QUEUE`]: int(0, 100_000).default(64),
  };
}

const envSchema = z.object({
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
  RPC_MAX_FRAME_BYTES: int(1024, 2047 * MiB).default(512 * MiB),
  RPC_CONNECT_TIMEOUT_MS: int(1, 60_000).default(1000),
  DRAIN_DELAY_MS: int(0, 600_000).default(1000),
  DRAIN_TIMEOUT_MS: int(1, 3_600_000).default(30_000),
  RPC_QUEUE_TIMEOUT_MS: int(1, 3_600_000).default(2000),
  RPC_RESOLVE_INTERVAL_MS: int(100, 3_600_000).default(10_000),
  MAX_INFLIGHT_REQUEST_BYTES: int(1024, 64 * 1024 * MiB).default(1024 * MiB),
  MAX_EVENT_LOOP_DELAY_MS: int(0, 60_000).default(1000),
  MAX_HEAP_USED_BYTES: int(0, 64 * 1024 * MiB).default(0),
  API_KEYS_FILE: z.string().optional(),
  API_KEYS: z.string().optional(),
  RATE_LIMIT_RPS: int(0, 1_000_000).default(0),
  RATE_LIMIT_CONCURRENT: int(0, 1_000_000).default(0),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  METRICS_PORT: int(0, 65535).optional(),
  RPC_EJECT_AFTER_FAILURES: int(1, 1000).default(3),
  RPC_EJECT_BASE_MS: int(1, 3_600_000).default(1000),
  RPC_EJECT_MAX_MS: int(1, 3_600_000).default(30_000),
  ...Object.assign({}, ...BACKEND_NAMES.map(backendSchema)),
});

export class ConfigError extends Error {}

function keyRing(file: string | undefined, inline: string | undefined): KeyRing | undefined {
  try {
    return loadKeyRing(file, inline);
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${(err as Error).message}`);
  }
}

/** Reads the configuration; throws ConfigError whose message is one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means unset, as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    throw new ConfigError(`invalid configuration: ${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`);
  }
  const e = parsed.data as Record<string, unknown>;
  const backend = (name: BackendName): BackendConfig => {
    const p = name.toUpperCase();
    return {
      name,
      instances: e[`${p}_BACKENDS`] as HostPort[] | undefined,
      timeoutMs: e[`${p}_TIMEOUT_MS`] as number,
      transport: e[`${p}_TRANSPORT`] as TransportKind,
      protocol: e[`${p}_PROTOCOL`] as ProtocolKind,
      maxConnections: e[`${p}_MAX_CONNECTIONS`] as number,
      maxQueue: e[`${p}_MAX_QUEUE`] as number,
    };
  };
  return {
    host: e.HOST as string,
    port: e.PORT as number,
    logLevel: e.LOG_LEVEL as string,
    caller: e.BASE_CALLER as string,
    maxImageBytes: e.MAX_IMAGE_BYTES as number,
    maxArchiveBytes: e.MAX_ARCHIVE_BYTES as number,
    archive: {
      maxEntries: e.ARCHIVE_MAX_ENTRIES as number,
      maxEntryBytes: e.ARCHIVE_MAX_ENTRY_BYTES as number,
      maxTotalBytes: e.ARCHIVE_MAX_TOTAL_BYTES as number,
      maxRatio: e.ARCHIVE_MAX_RATIO as number,
    },
    maxFrameBytes: e.RPC_MAX_FRAME_BYTES as number,
    connectTimeoutMs: e.RPC_CONNECT_TIMEOUT_MS as number,
    queueTimeoutMs: e.RPC_QUEUE_TIMEOUT_MS as number,
    resolveIntervalMs: e.RPC_RESOLVE_INTERVAL_MS as number,
    drainDelayMs: e.DRAIN_DELAY_MS as number,
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS as number,
    maxInflightBytes: e.MAX_INFLIGHT_REQUEST_BYTES as number,
    maxEventLoopDelayMs: e.MAX_EVENT_LOOP_DELAY_MS as number,
    maxHeapUsedBytes: e.MAX_HEAP_USED_BYTES as number,
    ejection: {
      afterFailures: e.RPC_EJECT_AFTER_FAILURES as number,
      baseMs: e.RPC_EJECT_BASE_MS as number,
      maxMs: e.RPC_EJECT_MAX_MS as number,
    },
    backends: Object.fromEntries(BACKEND_NAMES.map((n) => [n, backend(n)])) as Record<BackendName, BackendConfig>,
    keys: keyRing(e.API_KEYS_FILE as string | undefined, e.API_KEYS as string | undefined),
    defaultLimits: { requestsPerSecond: e.RATE_LIMIT_RPS as number, maxConcurrent: e.RATE_LIMIT_CONCURRENT as number },
    redisUrl: e.REDIS_URL as string | undefined,
    metricsPort: e.METRICS_PORT as number | undefined,
  };
}
