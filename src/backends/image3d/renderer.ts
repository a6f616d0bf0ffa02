import { WorkerJobError, WorkerJobs } from '../worker-thread.js';
import { RenderRefusal, type RenderJob, type RenderResult } from './render.js';

/**
 * Renders in a worker thread, so that one long render does not stall the Thrift server's
 * other calls; the worker takes jobs in order, one at a time (CPU-bound work gains nothing
 * from more on this backend's share of the machine).
 */
export class Renderer {
  private readonly jobs = new WorkerJobs<RenderJob, RenderResult>(import.meta.url, 'render-worker');

  async render(job: RenderJob): Promise<RenderResult> {
    try {
      const { video, depthPng, ...rest } = await this.jobs.run(job);
      return { ...rest, video: Buffer.from(video.buffer, video.byteOffset, video.length), depthPng: Buffer.from(depthPng) };
    } catch (err) {
      if (err instanceof WorkerJobError && (err.reason === 'undecodable' || err.reason === 'size')) throw new RenderRefusal(err.reason, err.message);
      throw err;
    }
  }

  close(): Promise<void> {
    return this.jobs.close();
  }
}
