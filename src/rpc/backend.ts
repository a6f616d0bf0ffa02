import { isIP } from 'node:net';
import type { BackendConfig, HostPort } from '../config/schema.js';
import { envPrefix, type Method } from '../services/descriptor.js';
import { serviceNamed } from '../services/index.js';
import type { CallerSignal } from './caller-signal.js';
import { InstanceHealth, type EjectionPolicy, type InstanceState } from './instance-health.js';
import { InstancePool, type PoolOptions } from './pool.js';
import { replyFault } from './reply-checks.js';
import { RpcError } from './rpc-error.js';
import type { RpcLog } from './rpc-client.js';
import type { MessageCap } from './transport.js';

export interface Instance {
  pool: InstancePool;
  health: InstanceHealth;
  /** The configured host name this address was resolved from, if it was a name. */
  name?: string;
}

export interface InstanceReport {
  address: string;
  name?: string;
  state: InstanceState;
  inFlight: number;
  retryInMs?: number;
  error?: string;
}

export type Lookup = (host: string) => Promise<string[]>;

/** The largest reply taken from a backend: its own limit, or RPC_MAX_FRAME_BYTES when that is lower. */
function replyCap(config: BackendConfig, maxFrameBytes: number): MessageCap {
  const own = { bytes: config.maxReplyBytes, setting: `${envPrefix(config.name)}MAX_REPLY_BYTES` };
  return maxFrameBytes < own.bytes ? { bytes: maxFrameBytes, setting: 'RPC_MAX_FRAME_BYTES' } : own;
}

/** Who hears of what happens to instances: the log, and the metrics. */
export interface RpcObserver {
  log?: RpcLog;
  ejected?(backend: string, instance: string): void;
}

/** One backend's instances: which to call, what a failure does to it, and the one safe retry. */
export class Backend {
  instances: Instance[];
  private next = 0;
  private readonly poolOptions: PoolOptions;
  /** The service's methods, each with its reply check, from its descriptor. */
  private readonly methods: Record<string, Method | undefined>;

  constructor(
    readonly config: BackendConfig,
    pool: Pick<PoolOptions, 'connectTimeoutMs' | 'queueTimeoutMs'> & { maxFrameBytes: number },
    private readonly ejection: EjectionPolicy,
    private readonly observer: RpcObserver,
  ) {
    this.methods = serviceNamed(config.name).methods;
    this.poolOptions = {
      wire: { transport: config.transport, protocol: config.protocol, replyCap: replyCap(config, pool.maxFrameBytes), envPrefix: envPrefix(config.name) },
      maxConnections: config.maxConnections,
      maxQueue: config.maxQueue,
      connectTimeoutMs: pool.connectTimeoutMs,
      queueTimeoutMs: pool.queueTimeoutMs,
    };
    // Until names are resolved, a name is one instance that resolves when it connects.
    this.instances = (config.instances ?? []).map((addr) => this.instance(addr));
  }

  /**
   * Re-resolves configured host names: a name with several addresses (a Kubernetes headless
   * service) is several instances. New addresses join; gone ones leave (their calls in flight
   * finish); kept ones keep their connections and health. A failed lookup keeps what was there.
   */
  async resolve(lookup: Lookup): Promise<void> {
    const wanted: Array<{ addr: HostPort; name?: string }> = [];
    for (const target of this.config.instances ?? []) {
      if (isIP(target.host)) {
        wanted.push({ addr: target });
        continue;
      }
      try {
        const addresses = await lookup(target.host);
        for (const host of addresses) wanted.push({ addr: { host, port: target.port }, name: target.host });
      } catch (err) {
        this.observer.log?.warn({ backend: this.config.name, host: target.host, err }, 'backend host name did not resolve; keeping the instances it had');
        wanted.push(...this.instances.filter((i) => i.name === target.host || i.pool.addr.host === target.host).map((i) => ({ addr: i.pool.addr, ...(i.name ? { name: i.name } : {}) })));
      }
    }
    const key = (a: HostPort) => `${a.host}|${a.port}`;
    const current = new Map(this.instances.map((i) => [key(i.pool.addr), i]));
    const next = wanted.map(({ addr, name }) => current.get(key(addr)) ?? this.instance(addr, name));
    for (const [k, gone] of current) if (!next.some((i) => key(i.pool.addr) === k)) gone.pool.close();
    this.instances = [...new Map(next.map((i) => [key(i.pool.addr), i])).values()];
  }

  private instance(addr: HostPort, name?: string): Instance {
    return {
      pool: new InstancePool(addr, serviceNamed(this.config.name).client, this.poolOptions),
      health: new InstanceHealth(this.ejection),
      ...(name ? { name } : {}),
    };
  }

  /**
   * Calls the least busy admitted instance. A call that never reached the wire (connection
   * refused, or its connection found dead before writing) is tried once more on another
   * instance; a call that was sent is not: the backend may be doing the (expensive) work.
   */
  async call(method: string, request: unknown, deadline: number, onInstance: (address: string) => void, signal?: CallerSignal): Promise<unknown> {
    const probe = this.panicProbe();
    const first = probe ?? this.pick();
    onInstance(first.pool.address);
    try {
      return await this.attempt(first, method, request, deadline, probe !== undefined, signal);
    } catch (err) {
      const unsent = err instanceof RpcError && !err.sent && (err.kind === 'unavailable' || err.kind === 'connection-lost');
      const second = unsent ? this.pick(first, false) : undefined;
      if (!second) throw err;
      onInstance(second.pool.address);
      return this.attempt(second, method, request, deadline, false, signal);
    }
  }

  /**
   * Each instance's state, for readiness. An instance not ejected is asked for a connection,
   * so a gateway that has made no call yet still knows; a refusal ejects it like a failed call.
   */
  async report(probeTimeoutMs: number): Promise<InstanceReport[]> {
    return Promise.all(
      this.instances.map(async (instance): Promise<InstanceReport> => {
        const { pool, health } = instance;
        if (health.state() !== 'ejected') {
          try {
            await pool.probe(probeTimeoutMs);
          } catch (err) {
            this.recordFailure(instance, err);
          }
        }
        const retryInMs = health.msUntilRetry();
        return {
          address: pool.address,
          ...(instance.name ? { name: instance.name } : {}),
          state: health.state(),
          inFlight: pool.inFlight,
          ...(retryInMs > 0 ? { retryInMs } : {}),
          ...(pool.lastError ? { error: pool.lastError } : {}),
        };
      }),
    );
  }

  /**
   * When every instance is ejected, one call at a time still goes to the one due back first,
   * as a probe: the backend is back in service with its first good answer, not only when a
   * backoff that grew during a long outage runs out. Every other call fails at once.
   */
  private panicProbe(): Instance | undefined {
    if (this.instances.length === 0 || this.instances.some((i) => i.health.admits() || i.health.probeInFlight)) return undefined;
    return this.instances.reduce((a, b) => (b.health.msUntilRetry() < a.health.msUntilRetry() ? b : a));
  }

  private async attempt(instance: Instance, method: string, request: unknown, deadline: number, forceProbe = false, signal?: CallerSignal): Promise<unknown> {
    instance.health.callStarted(forceProbe);
    try {
      const result = await instance.pool.call(method, request, deadline, signal);
      const fault = replyFault(this.methods[method]!.check, request, result);
      if (fault) throw new RpcError('protocol', `the reply breaks what the IDL promises: ${fault}`, true);
      instance.health.succeeded();
      return result;
    } catch (err) {
      // A call the gateway abandoned says nothing about the instance.
      if (signal?.aborted) instance.health.inconclusive();
      else this.recordFailure(instance, err);
      throw err;
    }
  }

  private recordFailure(instance: Instance, err: unknown): void {
    // A backend's own exception is an answer, and a wait for a free connection says nothing
    // about the instance: neither counts against it.
    if (!(err instanceof RpcError) || err.kind === 'application' || (!err.sent && err.kind !== 'unavailable')) {
      instance.health.inconclusive();
      return;
    }
    const ejectedMs = instance.health.failed(err.kind === 'unavailable');
    if (ejectedMs !== undefined) {
      this.observer.log?.warn({ backend: this.config.name, instance: instance.pool.address, ejectedMs, reason: err.message }, 'backend instance ejected');
      this.observer.ejected?.(this.config.name, instance.pool.address);
    }
  }

  /** The admitted instance with the fewest calls in flight; ties go round robin. */
  private pick(): Instance;
  private pick(exclude: Instance, required: false): Instance | undefined;
  private pick(exclude?: Instance, required = true): Instance | undefined {
    let best: Instance | undefined;
    const n = this.instances.length;
    for (let i = 0; i < n; i++) {
      const candidate = this.instances[(this.next + i) % n]!;
      if (candidate === exclude || !candidate.health.admits()) continue;
      if (!best || candidate.pool.inFlight < best.pool.inFlight) best = candidate;
    }
    this.next = n > 0 ? (this.next + 1) % n : 0;
    if (best || !required) return best;
    if (n === 0) throw new RpcError('unavailable', `no ${this.config.name} instances are configured`, false);
    const retryInMs = Math.min(...this.instances.map((i) => i.health.msUntilRetry()).filter((ms) => ms > 0));
    throw new RpcError('unavailable', `every ${this.config.name} instance is ejected after failing`, false, {
      retryAfterMs: Number.isFinite(retryInMs) ? retryInMs : 1000,
    });
  }
}
