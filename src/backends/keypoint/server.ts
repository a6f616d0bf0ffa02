import KeypointService from '../../../gen/thrift/KeypointService.js';
import type { RunningServer } from '../../shared/thrift-server.js';
import { serveBackend, type BackendOptions } from '../serve.js';
import { FaceDetector } from './detector.js';
import { keypointHandler } from './handler.js';

/**
 * The CPU reference keypoint backend: a real Thrift server over a real face-landmark model.
 * It listens only once the model is loaded: no call finds it half-ready.
 */
export async function startKeypointBackend(opts: BackendOptions): Promise<RunningServer> {
  const detector = await FaceDetector.create();
  let server: RunningServer;
  try {
    server = await serveBackend(KeypointService.Processor, keypointHandler(detector), opts);
  } catch (err) {
    await detector.close();
    throw err;
  }
  return {
    ...server,
    close: async () => {
      await server.close();
      await detector.close();
    },
  };
}
