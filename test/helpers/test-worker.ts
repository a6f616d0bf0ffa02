import { threadId } from 'node:worker_threads';
import { serveJobs, WorkerJobError } from '../../src/backends/worker-thread.js';

/** A worker for the worker-thread helper's tests: echoes, refuses, or dies, as the job says. */
serveJobs<{ do: 'echo' | 'refuse' | 'die'; value?: number }, { value: number; thread: number }>(async (job) => {
  if (job.do === 'refuse') throw new WorkerJobError('size', 'refused as asked');
  if (job.do === 'die') process.exit(3);
  return { result: { value: job.value ?? 0, thread: threadId } };
});
