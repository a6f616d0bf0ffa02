import ArScanService from '../../../gen/thrift/ArScanService.js';
import type { RunningServer } from '../../shared/thrift-server.js';
import { serveBackend, type BackendOptions } from '../serve.js';
import { arscanHandler } from './handler.js';

/** The CPU reference arscan backend: a real Thrift server building real textured models. */
export function startArscanBackend(opts: BackendOptions): Promise<RunningServer> {
  return serveBackend(ArScanService.Processor, arscanHandler(), opts);
}
