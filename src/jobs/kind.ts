import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BackendName } from '../services/index.js';
import type { CallContext, RpcClient } from '../rpc/rpc-client.js';
import type { JobKindName } from './job.js';

/**
 * A route whose work may run as a job: the backend call it makes, and the answer it gives.
 * The synchronous route and the job runner both use these, so a job's result is exactly
 * what the route would have answered. Inputs and outputs are plain data and Buffers (they
 * are stored with `pack`).
 */
export interface JobKind<Input = unknown, Output = unknown> {
  name: JobKindName;
  backend: BackendName;
  /** The route that serves it (and submits its jobs): a job's usage counts there. */
  route: string;
  /** The backend call, with the request's (or the job's) call context. */
  run(rpc: RpcClient, input: Input, ctx: CallContext): Promise<Output>;
  /**
   * The synchronous answer, with this request's log id. On a job's result, `jobLogid` (the
   * submitting request's) names the download and is the JSON form's `job_logid`.
   */
  answer(request: FastifyRequest, reply: FastifyReply, output: Output, jobLogid?: string): FastifyReply | object;
}
