import base from '../../gen/thrift/base_types.js';
import { ApiError, type ErrorCode } from '../errors.js';

const { StatusCode } = base;

/**
 * How a backend's `BaseResp.StatusCode` (the IDL's enum, idl/base.thrift) reaches the partner.
 * The backend's StatusMessage goes to the log; the partner gets the catalogue's words, which
 * are known to be safe. A code the IDL does not list is a BACKEND_ERROR.
 */
const BACKEND_STATUS: Partial<Record<number, { code: ErrorCode; message?: string }>> = {
  [StatusCode.INVALID_ARGUMENT]: { code: 'INVALID_ARGUMENT', message: 'The backend refused an argument of the request.' },
  [StatusCode.INVALID_IMAGE]: { code: 'IMAGE_UNDECODABLE', message: 'The backend could not decode the image.' },
  [StatusCode.IMAGE_SIZE_UNSUPPORTED]: { code: 'IMAGE_DIMENSIONS_UNSUPPORTED', message: 'The backend does not accept images of these dimensions.' },
  [StatusCode.NOT_ENOUGH_IMAGES]: { code: 'NOT_ENOUGH_IMAGES', message: 'The backend needs more images of the object.' },
  [StatusCode.RECONSTRUCTION_FAILED]: { code: 'RECONSTRUCTION_FAILED', message: 'The backend could not register the images into one model.' },
  [StatusCode.OVERLOADED]: { code: 'BACKEND_OVERLOADED' },
  [StatusCode.INTERNAL_ERROR]: { code: 'BACKEND_ERROR', message: 'The backend failed with an internal error.' },
};

/** What a backend said in a non-zero `BaseResp`: kept as the cause, for the log and the metrics. */
export class BackendStatus extends Error {
  constructor(
    backend: string,
    readonly statusCode: number,
    statusMessage: string,
  ) {
    super(`${backend} answered StatusCode ${statusCode}: ${statusMessage}`);
    this.name = 'BackendStatus';
  }
}

export function backendStatusError(backend: string, statusCode: number, statusMessage: string): ApiError {
  const mapped = BACKEND_STATUS[statusCode] ?? { code: 'BACKEND_ERROR' as const };
  return new ApiError(mapped.code, mapped.message, { cause: new BackendStatus(backend, statusCode, statusMessage) });
}
