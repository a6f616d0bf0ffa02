import type { FastifyBaseLogger } from 'fastify';
import type { BackendConfig, BackendName, Config } from '../config.js';
import { InstancePool } from './pool.js';
import { RpcError } from './rpc-error.js';
import { SERVICE_CLIENTS, type BackendMethods } from './services.js';

/** What a call knows about the HTTP request it serves; interceptors turn it into `Base`. */
export interface CallContext {
  logid: string;
  clientAddr: string;
  partner?: string;
  traceparent?: string;
  log: FastifyBaseLogger;
}

export interface RpcCall {
  backend: BackendName;
  method: string;
  request: { Base?: unknown };
  ctx: CallContext;
  /** Epoch milliseconds after which the call fails with a timeout. */
  deadline: number;
  /** Set by the transport step: the instance the call went to. */
  instance?: string;
}

export type CallNext = (call: RpcCall) => Promise<unknown>;
/** Cross-cutting work around one call (Base, logging, metrics), connect-es style. */
export type Interceptor = (next: CallNext) => CallNext;

export interface InstanceState {
  address: string;
  state: 'up' | 'down';
  inFlight: number;
  error?: string;
}

class Backend {
  readonly pools: InstancePool[];
  private next = 0;

  constructor(readonly config: BackendConfig, connectTimeoutMs: number, maxFrameBytes: number) {
    const wire = {
      transport: config.transport,
      protocol: config.protocol,
      maxFrameBytes,
      envPrefix: config.name.toUpperCase(),
    };
    this.pools = (config.instances ?? []).map(
      (addr) => new InstancePool(addr, SERVICE_CLIENTS[config.name], { wire, maxConnections: config.maxConnections, connectTimeoutMs }),
    );
  }

  /** The least busy instance; ties go round robin so idle instances share the load. */
  pick(): InstancePool {
    if (this.pools.length === 0) throw new RpcError('unavailable', `no ${this.config.name} instances are configured`, false);
    let best: InstancePool | undefined;
    for (let i = 0; i < this.pools.length; i++) {
      const pool = this.pools[(this.next + i) % this.pools.length]!;
      if (!best || pool.inFlight < best.inFlight) best = pool;
    }
    this.next = (this.next + 1) % this.pools.length;
    return best!;
  }
}

export class RpcClient {
  private readonly backends: Record<BackendName, Backend>;
  private readonly invoke: CallNext;

  constructor(config: Config, interceptors: Interceptor[]) {
    this.backends = Object.fromEntries(
      Object.values(config.backends).map((b) => [b.name, new Backend(b, config.connectTimeoutMs, config.maxFrameBytes)]),
    ) as Record<BackendName, Backend>;
    const transport: CallNext = (call) => {
      const pool = this.backends[call.backend].pick();
      call.instance = pool.address;
      return pool.call(call.method, call.request, call.deadline);
    };
    // The first interceptor is the outermost.
    this.invoke = interceptors.reduceRight<CallNext>((next, interceptor) => interceptor(next), transport);
  }

  call<B extends BackendName, M extends keyof BackendMethods[B] & string>(
    backend: B,
    method: M,
    request: BackendMethods[B][M] extends { request: infer Q } ? Q : never,
    ctx: CallContext,
  ): Promise<BackendMethods[B][M] extends { response: infer R } ? R : never> {
    const deadline = Date.now() + this.backends[backend].config.timeoutMs;
    return this.invoke({ backend, method, request: request as RpcCall['request'], ctx, deadline }) as Promise<
      BackendMethods[B][M] extends { response: infer R } ? R : never
    >;
  }

  /** Whether each instance accepts a connection now (for /readyz). */
  async instances(timeoutMs: number): Promise<Record<BackendName, InstanceState[]>> {
    const entries = await Promise.all(
      Object.entries(this.backends).map(async ([name, backend]) => {
        const states = await Promise.all(
          backend.pools.map(async (pool): Promise<InstanceState> => {
            try {
              await pool.probe(timeoutMs);
              return { address: pool.address, state: 'up', inFlight: pool.inFlight };
            } catch (err) {
              return { address: pool.address, state: 'down', inFlight: pool.inFlight, error: (err as Error).message };
            }
          }),
        );
        return [name, states] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<BackendName, InstanceState[]>;
  }

  close(): void {
    for (const backend of Object.values(this.backends)) for (const pool of backend.pools) pool.close();
  }
}
