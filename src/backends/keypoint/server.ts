import KeypointService from '../../../gen/thrift/KeypointService.js';
import { serveThrift, type RunningServer, type ServeOptions } from '../thrift-server.js';
import { FaceDetector } from './detector.js';
import { keypointHandler } from './handler.js';

/** The CPU reference keypoint backend: a real Thrift server over a real face detector. */
export async function startKeypointBackend(opts: ServeOptions): Promise<RunningServer> {
  const detector = await FaceDetector.create();
  return serveThrift(KeypointService.Processor, keypointHandler(detector), opts);
}
