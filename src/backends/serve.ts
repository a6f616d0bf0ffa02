import { serveThrift, type RunningServer, type ServeOptions } from '../shared/thrift-server.js';
import { answerWithFirstResult } from './precomputed.js';

export interface BackendOptions extends ServeOptions {
  /** Benchmark mode: every call after the first of a method gets the first one's answer. */
  precomputed?: boolean;
}

/** Serves a reference backend's handler, in benchmark mode when asked (see precomputed.ts). */
export function serveBackend(Processor: unknown, handler: object, opts: BackendOptions): Promise<RunningServer> {
  return serveThrift(Processor, opts.precomputed ? answerWithFirstResult(handler) : handler, opts);
}
