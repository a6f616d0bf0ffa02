import base from '../../gen/thrift/base_types.js';
import image3d from '../../gen/thrift/image3d_types.js';
import type { z } from 'zod';
import { Job as JobSchema } from '../../src/schemas/jobs.js';
import { fakeImage3d, type FakeBackend } from './fake-backends.js';
import { expectAnswer } from './gateway.js';
import { until } from './until.js';

export type Job = z.output<typeof JobSchema>;

/** A video a gated backend answers: which request it was, readable from the bytes (after the MP4 start replies are checked for). */
export const videoOf = (n: number) => Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from(`ftypisom video of call ${n}`)]);

/** A depth map: the PNG signature replies are checked for, and a word. */
export const DEPTH_PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.from('depth')]);

export interface GatedImage3d extends FakeBackend<image3d.RenderRequest> {
  /** Lets the oldest waiting call (or `n` of them) answer. */
  release(n?: number): void;
  /** Waits until the backend has received `n` calls in all. */
  arrived(n: number): Promise<void>;
  /** Connections the gateway closed while a call was held. */
  abandoned: number;
}

/** A real image3d Thrift server whose calls wait until the test releases them; `answer` may fail a call. */
export async function gatedImage3d(answer: (n: number) => image3d.RenderResponse = okRender): Promise<GatedImage3d> {
  const waiting: Array<() => void> = [];
  let released = 0;
  let calls = 0;
  const be = await fakeImage3d(async () => {
    const n = ++calls;
    if (released > 0) released--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    return answer(n);
  });
  return Object.assign(be, {
    abandoned: 0,
    release(count = 1) {
      for (let i = 0; i < count; i++) {
        const next = waiting.shift();
        if (next) next();
        else released++;
      }
    },
    async arrived(n: number) {
      await until(() => be.requests.length >= n, `${n} backend calls`);
    },
  });
}

export const okRender = (n: number) =>
  new image3d.RenderResponse({ video: videoOf(n), mime_type: 'video/mp4', frame_count: n, depth_png: DEPTH_PNG, BaseResp: new base.BaseResp({ StatusCode: 0 }) });

/** A 202 answer to a submission: the job, as the OpenAPI `Job` schema describes it. */
export const accepted = (res: Response): Promise<Job> => expectAnswer(res, JobSchema, 202);

/** Polls a job until `status` is one of `statuses`. */
export async function waitForStatus(url: string, id: string, statuses: string[], headers: Record<string, string> = {}): Promise<Job> {
  let job: Job | undefined;
  await until(async () => {
    job = await expectAnswer(await fetch(`${url}/v1/jobs/${id}`, { headers }), JobSchema);
    return statuses.includes(job.status);
  }, `job ${id} to be ${statuses.join(' or ')}`);
  return job!;
}
