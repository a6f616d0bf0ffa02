/** What went wrong with a backend call, before it is mapped to an HTTP answer. */
export type RpcErrorKind =
  /** The call's deadline passed; its socket was destroyed. */
  | 'timeout'
  /** No connection could be made (refused, unreachable, connect timeout). */
  | 'unavailable'
  /** The socket closed or failed while the call was in flight. */
  | 'connection-lost'
  /** The reply broke the wire format (bad frame, bad message, wrong seqid, frame over the cap) or what the IDL promises. */
  | 'protocol'
  /** The backend answered a Thrift TApplicationException. */
  | 'application'
  /** Shed by the gateway: the instance's wait queue was full, or the wait outlasted its own deadline. */
  | 'overloaded'
  /** The caller went away (the partner closed its connection): given up, its connection closed. */
  | 'abandoned';

/**
 * A failed call. Its message is the gateway's own diagnosis, safe to show a partner; what the
 * backend itself said (a method name, an exception's text) is only ever in `said`, made safe
 * for the log by `backendText`.
 */
export class RpcError extends Error {
  constructor(
    readonly kind: RpcErrorKind,
    message: string,
    /** Whether any byte of the request was written, i.e. whether a retry could double the work. */
    readonly sent: boolean,
    options?: { cause?: unknown; retryAfterMs?: number; said?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RpcError';
    this.retryAfterMs = options?.retryAfterMs;
    if (options?.said !== undefined) this.said = options.said;
  }

  /** When trying again makes sense: e.g. when the first ejected instance comes back. */
  readonly retryAfterMs: number | undefined;
  /** What the backend said, truncated and escaped: for the log, never for an answer. */
  readonly said?: string;
}
