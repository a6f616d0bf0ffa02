import { serveJobs, WorkerJobError } from '../worker-thread.js';
import { render, RenderRefusal, type RenderJob, type RenderResult } from './render.js';

/** Runs renders off the backend's event loop, one at a time, for `Renderer`. */
serveJobs<RenderJob, RenderResult>(async (job) => {
  try {
    const result = await render(job);
    return { result, transfer: [result.video.buffer as ArrayBuffer] };
  } catch (err) {
    if (err instanceof RenderRefusal) throw new WorkerJobError(err.reason, err.message);
    throw err;
  }
});
