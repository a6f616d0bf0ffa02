import { ApiError, type ErrorCode } from './errors.js';
import { StatusCode } from './rpc/backend-status.js';
import { RpcError, type RpcErrorKind } from './rpc/rpc-error.js';

/** The edge between the Thrift client and HTTP: the one place a failed backend call becomes a catalogue error. */

interface Mapped {
  code: ErrorCode;
  /** The answer's words when the catalogue's default would say too little. */
  message?: string;
}

/** A call that broke: how, in the catalogue's terms. `backend-status` is looked up by its code below. */
const BY_KIND: Record<Exclude<RpcErrorKind, 'backend-status'>, ErrorCode> = {
  timeout: 'BACKEND_TIMEOUT',
  unavailable: 'BACKEND_UNAVAILABLE',
  'connection-lost': 'BACKEND_CONNECTION_LOST',
  protocol: 'BACKEND_PROTOCOL_ERROR',
  application: 'BACKEND_ERROR',
  overloaded: 'BACKEND_OVERLOADED',
  abandoned: 'CLIENT_CLOSED_REQUEST',
};

/**
 * A `BaseResp.StatusCode` the backend answered (the IDL's enum): the partner gets the
 * catalogue's words, known to be safe, never the StatusMessage. A code the IDL does not list
 * is a BACKEND_ERROR. Keyed by the enum, so the compiler refuses a table that misses a code.
 */
const BY_STATUS: Record<Exclude<(typeof StatusCode)[keyof typeof StatusCode], typeof StatusCode.OK>, Mapped> = {
  [StatusCode.INVALID_ARGUMENT]: { code: 'INVALID_ARGUMENT', message: 'The backend refused an argument of the request.' },
  [StatusCode.INVALID_IMAGE]: { code: 'IMAGE_UNDECODABLE', message: 'The backend could not decode the image.' },
  [StatusCode.IMAGE_SIZE_UNSUPPORTED]: { code: 'IMAGE_DIMENSIONS_UNSUPPORTED', message: 'The backend does not accept images of these dimensions.' },
  [StatusCode.NOT_ENOUGH_IMAGES]: { code: 'NOT_ENOUGH_IMAGES', message: 'The backend needs more images of the object.' },
  [StatusCode.RECONSTRUCTION_FAILED]: { code: 'RECONSTRUCTION_FAILED', message: 'The backend could not register the images into one model.' },
  [StatusCode.OVERLOADED]: { code: 'BACKEND_OVERLOADED' },
  [StatusCode.INTERNAL_ERROR]: { code: 'BACKEND_ERROR', message: 'The backend failed with an internal error.' },
};

const byStatus: Partial<Record<number, Mapped>> = BY_STATUS;

function mapped(err: RpcError): Mapped {
  if (err.kind === 'backend-status') return (err.statusCode === undefined ? undefined : byStatus[err.statusCode]) ?? { code: 'BACKEND_ERROR' };
  // The gateway's own diagnosis of a broken exchange (it may name a transport mismatch, or the
  // promise of the IDL a reply broke) helps the partner report it; it holds nothing the
  // backend said (see RpcError).
  const message = err.kind === 'protocol' || err.kind === 'connection-lost' ? `The ${err.backend ?? 'backend'} backend call failed: ${err.message}.` : undefined;
  return { code: BY_KIND[err.kind], ...(message ? { message } : {}) };
}

/** The answer to a failed backend call; the RpcError stays its cause, for the log. */
export function apiErrorFromRpc(err: RpcError): ApiError {
  const { code, message } = mapped(err);
  const retryAfter = err.retryAfterMs === undefined ? {} : { headers: { 'retry-after': String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))) } };
  return new ApiError(code, message, { cause: err, ...retryAfter });
}

/** The catalogue code a failure is answered with: the outcome that metrics and traces name. */
export function errorCodeOf(err: unknown): ErrorCode {
  if (err instanceof RpcError) return mapped(err).code;
  return err instanceof ApiError ? err.code : 'INTERNAL_ERROR';
}
