/** What went wrong with a backend call, before it is mapped to an HTTP answer. */
export type RpcErrorKind =
  /** The call's deadline passed; its socket was destroyed. */
  | 'timeout'
  /** No connection could be made (refused, unreachable, connect timeout). */
  | 'unavailable'
  /** The socket closed or failed while the call was in flight. */
  | 'connection-lost'
  /** The reply broke the wire format: bad frame, bad message, wrong seqid, frame over the cap. */
  | 'protocol'
  /** The backend answered a Thrift TApplicationException. */
  | 'application'
  /** Shed by the gateway: the instance's wait queue was full, or the wait outlasted its own deadline. */
  | 'overloaded'
  /** The caller went away (the partner closed its connection): given up, its connection closed. */
  | 'abandoned';

export class RpcError extends Error {
  constructor(
    readonly kind: RpcErrorKind,
    message: string,
    /** Whether any byte of the request was written, i.e. whether a retry could double the work. */
    readonly sent: boolean,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.name = 'RpcError';
    this.retryAfterMs = options?.retryAfterMs;
  }

  /** When trying again makes sense: e.g. when the first ejected instance comes back. */
  readonly retryAfterMs: number | undefined;
}
