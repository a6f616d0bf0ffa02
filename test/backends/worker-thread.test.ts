import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerJobError, WorkerJobs } from '../../src/backends/worker-thread.js';

test('worker jobs: answers in order, refusals with their reason, a dead worker fails its jobs and the next job gets a new one', async (t) => {
  const jobs = new WorkerJobs<{ do: string; value?: number }, { value: number; thread: number }>(
    // Any module in the worker's folder names where it is; the worker's own does.
    new URL('../helpers/test-worker.ts', import.meta.url).href,
    'test-worker',
  );
  t.after(() => jobs.close());
  await jobs.ready();
  const answers = await Promise.all([1, 2, 3].map((value) => jobs.run({ do: 'echo', value })));
  assert.deepEqual(answers.map((a) => a.value), [1, 2, 3]);

  await assert.rejects(jobs.run({ do: 'refuse' }), (err) => err instanceof WorkerJobError && err.reason === 'size');

  const queued = jobs.run({ do: 'echo', value: 4 });
  await assert.rejects(jobs.run({ do: 'die' }), /exited with code 3/);
  assert.equal((await queued).value, 4, 'a job ahead of the fatal one was answered');

  const after = await jobs.run({ do: 'echo', value: 5 });
  assert.equal(after.value, 5);
  assert.notEqual(after.thread, answers[0]!.thread, 'by a new thread');
});
