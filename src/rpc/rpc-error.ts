/** What went wrong with a backend call, before the edge maps it to an HTTP answer (`src/rpc-to-http.ts`). */
export const RPC_ERROR_KINDS = [
  /** The call's deadline passed; its socket was destroyed. */
  'timeout',
  /** No connection could be made (refused, unreachable, connect timeout). */
  'unavailable',
  /** The socket closed or failed while the call was in flight. */
  'connection-lost',
  /** The reply broke the wire format (bad frame, bad message, wrong seqid, frame over the cap) or what the IDL promises. */
  'protocol',
  /** The backend answered a Thrift TApplicationException. */
  'application',
  /** The backend answered a non-zero `BaseResp.StatusCode` (in `statusCode`; the IDL's `StatusCode` enum, or a value it does not list). */
  'backend-status',
  /** Shed by the gateway: the instance's wait queue was full, or the wait outlasted its own deadline. */
  'overloaded',
  /** The caller went away (the partner closed its connection): given up, its connection closed. */
  'abandoned',
] as const;

export type RpcErrorKind = (typeof RPC_ERROR_KINDS)[number];

/**
 * A failed call. Its message is the gateway's own diagnosis, safe to show a partner; what the
 * backend itself said (a method name, an exception's text, a StatusMessage) is only ever in
 * `said`, made safe for the log by `backendText`.
 */
export class RpcError extends Error {
  constructor(
    readonly kind: RpcErrorKind,
    message: string,
    /** Whether any byte of the request was written, i.e. whether a retry could double the work. */
    readonly sent: boolean,
    options?: { cause?: unknown; retryAfterMs?: number; said?: string; statusCode?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RpcError';
    this.retryAfterMs = options?.retryAfterMs;
    if (options?.said !== undefined) this.said = options.said;
    if (options?.statusCode !== undefined) this.statusCode = options.statusCode;
  }

  /** When trying again makes sense: e.g. when the first ejected instance comes back. */
  readonly retryAfterMs: number | undefined;
  /** What the backend said, truncated and escaped: for the log, never for an answer. */
  readonly said?: string;
  /** Kind `backend-status`: the `BaseResp.StatusCode` the backend answered. */
  readonly statusCode?: number;
  /** The backend called, named by `errorInterceptor` as the error leaves the client (the transport below does not know it). */
  backend?: string;
}
