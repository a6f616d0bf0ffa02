import ArScanService from '../../../gen/thrift/ArScanService.js';
import { serveThrift, type RunningServer, type ServeOptions } from '../thrift-server.js';
import { arscanHandler } from './handler.js';

/** The CPU reference arscan backend: a real Thrift server building real textured models. */
export function startArscanBackend(opts: ServeOptions): Promise<RunningServer> {
  return serveThrift(ArScanService.Processor, arscanHandler(), opts);
}
