import base from '../../gen/thrift/base_types.js';
import { backendText } from './backend-text.js';
import { RpcError } from './rpc-error.js';

/** The IDL's `StatusCode` enum (idl/base.thrift): what a backend may answer in `BaseResp`. */
export const { StatusCode } = base;

/** The `BaseResp` every response carries in field 255, when it does. */
export const baseRespOf = (response: unknown): { StatusCode?: number; StatusMessage?: string } | undefined =>
  (response as { BaseResp?: { StatusCode?: number; StatusMessage?: string } } | null | undefined)?.BaseResp;

/**
 * A non-zero `BaseResp.StatusCode` as an RpcError of kind `backend-status`, carrying the code;
 * the StatusMessage is the backend's text, so it goes to `said` (for the log) only. Which
 * answer a code gets is the edge's business (`src/rpc-to-http.ts`).
 */
export function backendStatusError(backend: string, response: unknown): RpcError | undefined {
  const status = baseRespOf(response);
  const statusCode = status?.StatusCode ?? StatusCode.OK;
  if (statusCode === StatusCode.OK) return undefined;
  const err = new RpcError('backend-status', `${backend} answered StatusCode ${statusCode}`, true, { said: backendText(status?.StatusMessage ?? ''), statusCode });
  err.backend = backend;
  return err;
}
