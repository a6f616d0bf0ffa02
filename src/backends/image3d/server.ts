import Image3DService from '../../../gen/thrift/Image3DService.js';
import type { RunningServer } from '../../shared/thrift-server.js';
import { serveBackend, type BackendOptions } from '../serve.js';
import { image3dHandler } from './handler.js';
import { Renderer } from './renderer.js';

/** The CPU reference image3d backend: a real Thrift server rendering real videos. */
export async function startImage3dBackend(opts: BackendOptions): Promise<RunningServer> {
  const renderer = new Renderer();
  const server = await serveBackend(Image3DService.Processor, image3dHandler(renderer), opts);
  return {
    ...server,
    close: async () => {
      await server.close();
      await renderer.close();
    },
  };
}
