import { parentPort } from 'node:worker_threads';
import { render, RenderRefusal, type RenderJob } from './render.js';

/** Runs renders off the backend's event loop, one at a time, for `Renderer`. */
parentPort!.on('message', async ({ id, job }: { id: number; job: RenderJob }) => {
  try {
    const result = await render(job);
    parentPort!.postMessage({ id, result }, [result.video.buffer as ArrayBuffer]);
  } catch (err) {
    const reason = err instanceof RenderRefusal ? err.reason : 'internal';
    parentPort!.postMessage({ id, error: { reason, message: (err as Error).message } });
  }
});
