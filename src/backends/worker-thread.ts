import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, Worker } from 'node:worker_threads';

/** What a worker's job failed with: `reason` lets the caller tell refusals from faults. */
export class WorkerJobError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

type Reply<R> = { ready: true } | { id: number; result: R } | { id: number; error: { reason: string; message: string } };

/**
 * Starts the worker module `./${name}` next to the module at `from` (its import.meta.url):
 * .ts under tsx (tests, dev), .js once built. Worker threads do not inherit tsx's loader from
 * `--import tsx`, so under tsx the worker registers it first.
 */
function startWorker(from: string, name: string): Worker {
  const ext = extname(fileURLToPath(from));
  const url = new URL(`./${name}${ext}`, from);
  if (ext !== '.ts') return new Worker(url);
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true });
}

/**
 * Jobs for one worker thread, so that CPU-bound work does not stall a backend's Thrift server.
 * The worker says when it is ready (`serveJobs`); jobs sent before wait in its queue. A worker
 * that dies (a crash, out of memory) fails its jobs; the next job starts a new one.
 */
export class WorkerJobs<Job, Result> {
  private worker: { thread: Worker; ready: Promise<void> } | undefined;
  private readonly pending = new Map<number, { resolve: (r: Result) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor(
    private readonly from: string,
    private readonly name: string,
  ) {}

  /** Starts the worker if none runs, and waits until it is ready (or fails to start). */
  ready(): Promise<void> {
    return (this.worker ??= this.spawn()).ready;
  }

  run(job: Job, transfer: ArrayBuffer[] = []): Promise<Result> {
    const { thread } = (this.worker ??= this.spawn());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      thread.postMessage({ id, job }, transfer);
    });
  }

  async close(): Promise<void> {
    await this.worker?.thread.terminate();
  }

  private spawn(): { thread: Worker; ready: Promise<void> } {
    const thread = startWorker(this.from, this.name);
    let error: Error | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      thread.on('message', (reply: Reply<Result>) => {
        if ('ready' in reply) return resolve();
        const call = this.pending.get(reply.id);
        if (!call) return;
        this.pending.delete(reply.id);
        if ('result' in reply) call.resolve(reply.result);
        else call.reject(new WorkerJobError(reply.error.reason, reply.error.message));
      });
      thread.on('error', (err) => {
        error = err;
        console.error(`${this.name}: ${err.message}`);
      });
      thread.once('exit', (code) => {
        if (this.worker?.thread === thread) this.worker = undefined;
        const gone = new Error(`the ${this.name} worker exited with code ${code}${error ? `: ${error.message}` : ''}`);
        reject(gone);
        for (const call of this.pending.values()) call.reject(gone);
        this.pending.clear();
      });
    });
    // A start that fails is reported by ready() and by the jobs it fails.
    ready.catch(() => {});
    return { thread, ready };
  }
}

/**
 * The worker's side: answers each job with `work`, one job at a time in the order sent, and
 * says it is ready once called. `work` throws a WorkerJobError to refuse a job with a reason.
 */
export function serveJobs<Job, Result>(work: (job: Job) => Promise<{ result: Result; transfer?: ArrayBuffer[] }>): void {
  const port = parentPort!;
  let queue = Promise.resolve();
  port.on('message', ({ id, job }: { id: number; job: Job }) => {
    queue = queue.then(async () => {
      try {
        const { result, transfer } = await work(job);
        port.postMessage({ id, result }, transfer ?? []);
      } catch (err) {
        const reason = err instanceof WorkerJobError ? err.reason : 'internal';
        port.postMessage({ id, error: { reason, message: (err as Error).message } });
      }
    });
  });
  port.postMessage({ ready: true });
}
