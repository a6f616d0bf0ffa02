import type { HostPort } from '../config/schema.js';
import type { CallerSignal } from './caller-signal.js';
import { abandoned, Connection, type GeneratedClientClass, type WireOptions } from './connection.js';
import { RpcError } from './rpc-error.js';

export interface PoolOptions {
  wire: WireOptions;
  maxConnections: number;
  connectTimeoutMs: number;
  /** Calls that may wait for a connection once all are busy; more are shed at once. */
  maxQueue: number;
  /** How long a call may wait for a connection, whatever its own deadline. */
  queueTimeoutMs: number;
}

interface Waiter {
  method: string;
  deadline: number;
  signal: CallerSignal | undefined;
  resolve: (conn: Connection) => void;
  reject: (err: RpcError) => void;
  /** Stops its queue timer and its abandonment listener: it got a connection, or never will. */
  settle: () => void;
}

/**
 * Connections to one backend instance: made lazily, at most `maxConnections`, each lent to
 * one call at a time; a broken one is dropped and the next call makes a new one.
 */
export class InstancePool {
  readonly address: string;
  private readonly idle: Connection[] = [];
  private readonly waiters: Waiter[] = [];
  private open = 0;
  private closed = false;
  /** Calls holding a connection or waiting for one: what least-loaded balancing compares. */
  inFlight = 0;
  lastError: string | undefined;

  constructor(
    readonly addr: HostPort,
    private readonly Client: GeneratedClientClass,
    private readonly opts: PoolOptions,
  ) {
    this.address = addr.host.includes(':') ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
  }

  /** One call on a pooled connection; a call abandoned (`signal`) gives up its place in the queue or its connection at once. */
  async call(method: string, request: unknown, deadline: number, signal?: CallerSignal): Promise<unknown> {
    if (signal?.aborted) throw abandoned(method, false);
    this.inFlight++;
    try {
      const conn = await this.acquire(deadline, method, signal);
      try {
        return await conn.call(method, request, deadline, signal);
      } finally {
        this.release(conn);
      }
    } finally {
      this.inFlight--;
    }
  }

  /** Opens one connection to see whether the instance answers (for readiness). */
  async probe(timeoutMs: number): Promise<void> {
    // The probe's own timeout is its connect timeout: a host that does not answer in it fails the probe.
    const conn = await this.connect(Date.now() + timeoutMs, undefined, Math.min(timeoutMs, this.opts.connectTimeoutMs));
    this.release(conn);
  }

  close(): void {
    this.closed = true;
    for (const conn of this.idle.splice(0)) conn.destroy();
    for (const w of this.waiters.splice(0)) {
      w.settle();
      w.reject(new RpcError('unavailable', 'the gateway is shutting down', false));
    }
  }

  private acquire(deadline: number, method: string, signal: CallerSignal | undefined): Promise<Connection> {
    if (this.closed) return Promise.reject(new RpcError('unavailable', 'the gateway is shutting down', false));
    const conn = this.idle.pop();
    if (conn) return Promise.resolve(conn);
    if (this.open < this.opts.maxConnections) {
      return this.connect(deadline, { method, signal });
    }
    if (this.waiters.length >= this.opts.maxQueue) {
      return Promise.reject(
        new RpcError('overloaded', `all ${this.opts.maxConnections} connections to ${this.address} are busy and ${this.opts.maxQueue} calls wait already`, false),
      );
    }
    const callLeft = Math.max(0, deadline - Date.now());
    const shedFirst = this.opts.queueTimeoutMs < callLeft;
    return new Promise((resolve, reject) => {
      const leave = (err: RpcError) => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        waiter.settle();
        reject(err);
      };
      const timer = setTimeout(
        () => leave(shedFirst ? new RpcError('overloaded', `${this.stayedBusy()} for ${this.opts.queueTimeoutMs} ms`, false) : this.busyUntilDeadline()),
        Math.min(callLeft, this.opts.queueTimeoutMs),
      );
      const onAbort = () => leave(abandoned(method, false));
      signal?.addEventListener('abort', onAbort, { once: true });
      const waiter: Waiter = {
        method,
        deadline,
        signal,
        resolve,
        reject,
        settle: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /**
   * A connect given up at the connect timeout or at `deadline`, whichever comes first (a call
   * must not outlive its deadline waiting for a host that does not answer). Cut short by the
   * deadline, it is the call's timeout and says nothing about the instance (it had less than
   * the connect timeout). `caller`: the call it is for, whose going gives the connect up and
   * frees its slot.
   */
  private async connect(deadline: number, caller?: { method: string; signal: CallerSignal | undefined }, connectTimeoutMs = this.opts.connectTimeoutMs): Promise<Connection> {
    const left = Math.max(1, deadline - Date.now());
    const byDeadline = left < connectTimeoutMs;
    this.open++;
    let conn: Connection;
    try {
      conn = await Connection.open(this.addr, this.Client, this.opts.wire, byDeadline ? left : connectTimeoutMs, caller);
    } catch (err) {
      this.open--;
      // The connect's own timer fires at `left`, by a clock that may round a millisecond apart.
      const cutShort = byDeadline && err instanceof RpcError && err.kind === 'unavailable' && Date.now() >= deadline - 1;
      // Neither a caller who went away nor a deadline that came first says anything about the instance.
      if (!cutShort && !(err instanceof RpcError && err.kind === 'abandoned')) this.lastError = (err as Error).message;
      this.serveWaiter();
      if (cutShort) throw new RpcError('timeout', `the call's deadline passed while connecting to ${this.address}`, false, { cause: err });
      throw err;
    }
    this.lastError = undefined;
    conn.onDead = () => {
      this.open--;
      const i = this.idle.indexOf(conn);
      if (i >= 0) this.idle.splice(i, 1);
      this.serveWaiter();
    };
    return conn;
  }

  private release(conn: Connection): void {
    if (!conn.usable) return; // a dead one was already counted out by onDead
    if (this.closed) return conn.destroy();
    const waiter = this.nextWaiter();
    if (waiter) {
      waiter.resolve(conn);
    } else {
      this.idle.push(conn);
    }
  }

  /** A slot freed up: let the oldest waiter open a new connection in it. */
  private serveWaiter(): void {
    if (this.closed || this.open >= this.opts.maxConnections) return;
    const waiter = this.nextWaiter();
    if (!waiter) return;
    this.connect(waiter.deadline, waiter).then(waiter.resolve, waiter.reject);
  }

  /**
   * The oldest waiter whose caller is still there and whose deadline is still ahead, out of the
   * queue and settled. One whose own listener or queue timer has yet to run (a slot freed by
   * another call on the same signal, or freed as its deadline passed) leaves here without a
   * connection: as abandoned, or as timed out, not sent (a call sent past its deadline would
   * cost the backend the work and its connection).
   */
  private nextWaiter(): Waiter | undefined {
    for (let waiter = this.waiters.shift(); waiter; waiter = this.waiters.shift()) {
      waiter.settle();
      if (waiter.signal?.aborted) waiter.reject(abandoned(waiter.method, false));
      else if (waiter.deadline <= Date.now()) waiter.reject(this.busyUntilDeadline());
      else return waiter;
    }
    return undefined;
  }

  private stayedBusy(): string {
    return `all ${this.opts.maxConnections} connections to ${this.address} stayed busy`;
  }

  private busyUntilDeadline(): RpcError {
    return new RpcError('timeout', `${this.stayedBusy()} until the deadline`, false);
  }
}
