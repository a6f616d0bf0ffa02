import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RenderRefusal, type RenderJob, type RenderResult } from './render.js';

type Reply = { id: number; result: RenderResult } | { id: number; error: { reason: 'undecodable' | 'size' | 'internal'; message: string } };

// Same extension as this file: .ts under tsx (tests, dev), .js once built.
const EXT = extname(fileURLToPath(import.meta.url));
const WORKER = new URL(`./render-worker${EXT}`, import.meta.url);

/** Worker threads do not inherit tsx's loader from `--import tsx`: register it in the worker first. */
function startWorker(): Worker {
  if (EXT !== '.ts') return new Worker(WORKER);
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER.href)}); })`;
  return new Worker(boot, { eval: true });
}

/**
 * Renders in a worker thread, so that one long render does not stall the Thrift server's
 * other calls; the worker takes jobs in order, one at a time (CPU-bound work gains nothing
 * from more on this backend's share of the machine).
 */
export class Renderer {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (r: RenderResult) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  render(job: RenderJob): Promise<RenderResult> {
    const worker = (this.worker ??= this.spawn());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, job });
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
  }

  /** A worker that dies (a crash, out of memory) fails its jobs; the next job gets a new one. */
  private spawn(): Worker {
    const worker = startWorker();
    worker.on('message', (reply: Reply) => {
      const call = this.pending.get(reply.id);
      if (!call) return;
      this.pending.delete(reply.id);
      if ('result' in reply) {
        const { video, depthPng } = reply.result;
        call.resolve({ ...reply.result, video: Buffer.from(video.buffer, video.byteOffset, video.length), depthPng: Buffer.from(depthPng) });
      } else {
        call.reject(reply.error.reason === 'internal' ? new Error(reply.error.message) : new RenderRefusal(reply.error.reason, reply.error.message));
      }
    });
    worker.on('error', (err) => console.error(`image3d render worker: ${err.message}`));
    worker.once('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      for (const call of this.pending.values()) call.reject(new Error(`the render worker exited with code ${code}`));
      this.pending.clear();
    });
    return worker;
  }
}
