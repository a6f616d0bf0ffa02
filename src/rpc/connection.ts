import net from 'node:net';
import thrift from 'thrift';
import type { HostPort, ProtocolKind, TransportKind } from '../config/schema.js';
import { backendText } from './backend-text.js';
import { RpcError } from './rpc-error.js';
import type { CallerSignal } from './caller-signal.js';
import { createMessageReader, createWriteTransport, diagnoseMismatch, PROTOCOLS, type MessageCap, type MessageReader } from './transport.js';

/** A service's generated client class, used only as the codec for its methods (send_X / recv_X). */
export type GeneratedClientClass = new (output: thrift.TTransport, protocol: unknown) => object;

interface CodecClient {
  _seqid: number;
  _reqs: Record<number, (err: unknown, result?: unknown) => void>;
  [method: string]: unknown;
}

export interface WireOptions {
  transport: TransportKind;
  protocol: ProtocolKind;
  /** The largest reply accepted. */
  replyCap: MessageCap;
  /** The backend's variables' prefix (`KEYPOINT_`), named in mismatch hints. */
  envPrefix: string;
}

interface InFlight {
  method: string;
  seqid: number;
  resolve: (result: unknown) => void;
  reject: (err: RpcError) => void;
  timer: NodeJS.Timeout;
}

const MAX_SEQID = 0x7fffffff;
const HEAD_BYTES = 8;

/**
 * One TCP connection to one backend instance, carrying one call at a time. A call past its
 * deadline destroys the socket, so a late reply can never be read as another call's answer;
 * a socket that closes or fails fails its call at once.
 */
export class Connection {
  private readonly codec: CodecClient;
  private readonly reader: MessageReader;
  private current: InFlight | undefined;
  private seqid = 0;
  /** First bytes of the current reply, kept to name a transport/protocol mismatch. */
  private head = Buffer.alloc(0);
  private dead: RpcError | undefined;
  /** Called once when the connection can no longer be used. */
  onDead: (() => void) | undefined;

  private constructor(
    private readonly socket: net.Socket,
    Client: GeneratedClientClass,
    private readonly wire: WireOptions,
  ) {
    const output = createWriteTransport(wire.transport, (chunks) => {
      socket.cork();
      for (const chunk of chunks) socket.write(chunk);
      socket.uncork();
    });
    this.codec = new Client(output, PROTOCOLS[wire.protocol]) as CodecClient;
    this.reader = createMessageReader(wire.transport, wire.protocol, wire.replyCap, (input) => this.onMessage(input));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new RpcError('connection-lost', `connection error: ${err.message}`, true, { cause: err })));
    socket.on('close', () => this.fail(new RpcError('connection-lost', this.closedMessage(), true)));
  }

  /** `caller`: the call it is opened for; its signal aborting gives the connect up (the socket is closed). */
  static open(addr: HostPort, Client: GeneratedClientClass, wire: WireOptions, timeoutMs: number, caller?: { method: string; signal?: CallerSignal | undefined }): Promise<Connection> {
    const signal = caller?.signal;
    if (signal?.aborted) return Promise.reject(abandoned(caller!.method, false));
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: addr.host, port: addr.port, noDelay: true });
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const timer = setTimeout(() => {
        done();
        socket.destroy();
        reject(new RpcError('unavailable', `connect to ${addr.host}:${addr.port} timed out after ${timeoutMs} ms`, false));
      }, timeoutMs);
      const onAbort = () => {
        done();
        socket.destroy();
        reject(abandoned(caller!.method, false));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', (err) => {
        done();
        reject(new RpcError('unavailable', `connect to ${addr.host}:${addr.port} failed: ${err.message}`, false, { cause: err }));
      });
      socket.once('connect', () => {
        done();
        socket.removeAllListeners('error');
        socket.setKeepAlive(true, 30_000);
        resolve(new Connection(socket, Client, wire));
      });
    });
  }

  get usable(): boolean {
    return this.dead === undefined && this.current === undefined;
  }

  /** `signal`: aborting it abandons the call, and closes the connection (Thrift has no cancel). */
  call(method: string, request: unknown, deadline: number, signal?: CallerSignal): Promise<unknown> {
    if (this.dead) return Promise.reject(new RpcError(this.dead.kind, this.dead.message, false));
    if (this.current) throw new Error('Connection.call while a call is in flight');
    if (signal?.aborted) return Promise.reject(abandoned(method, false));
    if (!signal) return this.send(method, request, deadline);
    const onAbort = () => this.fail(abandoned(method, true));
    signal.addEventListener('abort', onAbort, { once: true });
    return this.send(method, request, deadline).finally(() => signal.removeEventListener('abort', onAbort));
  }

  private send(method: string, request: unknown, deadline: number): Promise<unknown> {
    this.seqid = this.seqid >= MAX_SEQID ? 1 : this.seqid + 1;
    this.head = Buffer.alloc(0);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const got = this.head.length === 0 ? 'no byte of a reply arrived' : 'the reply was incomplete';
        this.fail(new RpcError('timeout', `no reply to ${method} within its deadline (${got})`, true));
      }, Math.max(0, deadline - Date.now()));
      this.current = { method, seqid: this.seqid, resolve, reject, timer };
      try {
        this.codec._seqid = this.seqid;
        (this.codec[`send_${method}`] as (req: unknown) => void).call(this.codec, request);
      } catch (err) {
        // Serialisation failed before a byte was written: the connection is still clean.
        clearTimeout(timer);
        this.current = undefined;
        reject(new RpcError('protocol', `could not encode the ${method} request: ${(err as Error).message}`, false, { cause: err }));
      }
    });
  }

  destroy(): void {
    this.fail(new RpcError('connection-lost', 'connection closed by the gateway', false));
  }

  private onData(chunk: Buffer): void {
    if (this.head.length < HEAD_BYTES) this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD_BYTES - this.head.length)]);
    try {
      this.reader.push(chunk);
    } catch (err) {
      this.fail(this.protocolError(err));
      return;
    }
    // Bytes beyond a reply (sent with it, or while no call was in flight) would be read as the
    // start of the next call's reply, failing a request that has nothing to do with them.
    // The reply itself was whole: its call keeps it, and the connection is not reused.
    if (!this.current && this.reader.pendingBytes > 0) {
      this.fail(new RpcError('protocol', `the backend sent ${this.reader.pendingBytes} bytes beyond its reply; connection closed`, true));
    }
  }

  private onMessage(input: thrift.TProtocol): void {
    const call = this.current;
    const { fname, mtype, rseqid } = input.readMessageBegin();
    if (!call) throw new RpcError('protocol', 'the backend sent a message while no call was in flight', true, { said: backendText(fname) });
    if (rseqid !== call.seqid || fname !== call.method) {
      // The name the backend used is its text (it could be a megabyte of anything): the log's only.
      const what = fname === call.method ? `#${rseqid}` : 'another method';
      throw new RpcError('protocol', `the reply (for ${what}) does not match call "${call.method}" #${call.seqid}`, true, { said: backendText(fname) });
    }
    if (mtype !== thrift.Thrift.MessageType.REPLY && mtype !== thrift.Thrift.MessageType.EXCEPTION) {
      throw new RpcError('protocol', `unexpected message type ${mtype} in reply`, true);
    }
    let outcome: { err: unknown; result?: unknown } | undefined;
    this.codec._reqs[rseqid] = (err, result) => {
      outcome = { err, result };
    };
    (this.codec[`recv_${call.method}`] as (i: unknown, m: number, s: number) => void).call(this.codec, input, mtype, rseqid);
    if (!outcome) throw new RpcError('protocol', 'the reply could not be decoded', true);
    // Not kept as the cause: its text would reach the log whole. An exception may carry no text
    // at all (or a field of another type): its message is then undefined.
    const { err } = outcome;
    const failure = err == null ? undefined : new RpcError('application', 'the backend raised an exception', true, { said: backendText(String((err instanceof Error ? err.message : err) ?? '')) });
    // Settled last, once nothing can throw: a throw after the call is taken off the connection
    // left it neither answered nor failable (it hung past its deadline, and a recovery probe
    // with it: the instance stayed shut for good).
    clearTimeout(call.timer);
    this.current = undefined;
    if (failure) call.reject(failure);
    else call.resolve(outcome.result);
    // Answered before it read the whole request: the rest is still queued on this socket and
    // would go ahead of the next call (or be read as its start). The connection is done.
    if (this.socket.writableLength > 0) this.destroy();
  }

  private protocolError(err: unknown): RpcError {
    const hint = diagnoseMismatch(this.head, this.wire.transport, this.wire.protocol);
    // The decoder's own words stay in the cause, for the log.
    const base = err instanceof RpcError ? err.message : 'the reply could not be decoded';
    return new RpcError('protocol', hint ? `${base}; ${hint} (check ${this.wire.envPrefix}TRANSPORT and ${this.wire.envPrefix}PROTOCOL)` : base, true, {
      cause: err,
      ...(err instanceof RpcError && err.said !== undefined ? { said: err.said } : {}),
    });
  }

  private closedMessage(): string {
    const hint = diagnoseMismatch(this.head, this.wire.transport, this.wire.protocol);
    if (hint) return `the backend closed the connection; ${hint}`;
    // Only a first call can tell of a mismatch: a reused connection may just have been closed by
    // a backend restarting.
    return this.current && this.head.length === 0 && this.seqid === 1
      ? `the backend closed the connection without replying, as backends do with a request in a transport or protocol they do not speak: check that ${this.wire.envPrefix}TRANSPORT=${this.wire.transport} and ${this.wire.envPrefix}PROTOCOL=${this.wire.protocol} match the backend`
      : 'the backend closed the connection before replying';
  }

  private fail(err: RpcError): void {
    if (this.dead) return;
    this.dead = err;
    this.socket.destroy();
    const call = this.current;
    this.current = undefined;
    if (call) {
      clearTimeout(call.timer);
      call.reject(err);
    }
    this.onDead?.();
  }
}

/** A call its caller gave up on (a partner who hung up, a canceled job); never tried again elsewhere. */
export const abandoned = (method: string, sent: boolean) =>
  new RpcError('abandoned', `${method} abandoned: its caller went away${sent ? '; its connection to the backend is closed' : ' before it was sent'}`, sent);
