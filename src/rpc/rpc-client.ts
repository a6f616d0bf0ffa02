import type { BaseLogger } from 'pino';
import type { Config } from '../config/schema.js';
import type { BackendMethods, BackendName } from '../services/index.js';
import { Backend, type InstanceReport, type Lookup, type RpcObserver } from './backend.js';
import type { CallerSignal } from './caller-signal.js';
import type { InstanceState } from './instance-health.js';

/** What the client logs with: pino's methods, so that a fastify logger or a bare pino one will do. */
export type RpcLog = Pick<BaseLogger, 'debug' | 'info' | 'warn'>;

/** What a call knows about the HTTP request it serves; interceptors turn it into `Base`. */
export interface CallContext {
  logid: string;
  clientAddr: string;
  partner?: string;
  traceparent?: string;
  log: RpcLog;
  /** Aborted when the caller gives up (a partner who hung up, a canceled job): the call is abandoned, its queue place or connection freed. */
  signal?: CallerSignal;
  /** Where the request's time goes: told when the backend call starts and ends. */
  stage?(stage: 'rpc' | 'encode'): void;
  /** Told how many images a call that succeeded has processed (usage). */
  processed?(images: number): void;
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

export class RpcClient {
  private readonly backends: Record<BackendName, Backend>;
  private readonly invoke: CallNext;
  private resolveTimer: NodeJS.Timeout | undefined;

  constructor(config: Config, interceptors: Interceptor[], observer: RpcObserver = {}) {
    this.backends = Object.fromEntries(
      Object.values(config.backends).map((b) => [
        b.name,
        new Backend(
          b,
          { connectTimeoutMs: config.connectTimeoutMs, queueTimeoutMs: config.queueTimeoutMs, maxFrameBytes: config.maxFrameBytes },
          config.ejection,
          observer,
        ),
      ]),
    ) as Record<BackendName, Backend>;
    const transport: CallNext = (call) =>
      this.backends[call.backend].call(call.method, call.request, call.deadline, (address) => (call.instance = address), call.ctx.signal);
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

  /** The state of every instance of every backend (for /readyz). */
  async instances(probeTimeoutMs: number): Promise<Record<BackendName, InstanceReport[]>> {
    const entries = await Promise.all(Object.entries(this.backends).map(async ([name, backend]) => [name, await backend.report(probeTimeoutMs)] as const));
    return Object.fromEntries(entries) as Record<BackendName, InstanceReport[]>;
  }

  /** Resolves backend host names now and then every `intervalMs`, until close(). */
  async startResolving(lookup: Lookup, intervalMs: number): Promise<void> {
    const all = () => Promise.all(Object.values(this.backends).map((b) => b.resolve(lookup)));
    await all();
    this.resolveTimer = setInterval(() => void all(), intervalMs).unref();
  }

  /** Each instance now: its calls in flight and its health (no probe: cheap enough for every scrape). */
  snapshot(): Array<{ backend: BackendName; instance: string; inFlight: number; state: InstanceState }> {
    return Object.values(this.backends).flatMap((b) =>
      b.instances.map(({ pool, health }) => ({ backend: b.config.name, instance: pool.address, inFlight: pool.inFlight, state: health.state() })),
    );
  }

  close(): void {
    clearInterval(this.resolveTimer);
    for (const backend of Object.values(this.backends)) for (const { pool } of backend.instances) pool.close();
  }
}
