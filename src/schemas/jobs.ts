import { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import { JOB_KINDS, JOB_STATUSES } from '../jobs/job.js';
import { named, ref } from './json-schema.js';
import { Problem } from './problem.js';

const time = (description: string) => z.string().nullable().meta({ description: `${description} (RFC 3339), or null.`, format: 'date-time' });

const EXAMPLE_JOB = {
  id: 'job_7JqZ0m2cVb1u7Kp3d9sWfA',
  kind: 'arscan',
  status: 'queued',
  created_at: '2026-11-28T08:00:00.000Z',
  started_at: null,
  finished_at: null,
  expires_at: null,
  queue_position: 1,
  logid: '20261128080000A1B2C3D4E5F60718',
  result_url: null,
  error: null,
};

export const Job = named(
  'Job',
  z
    .object({
      id: z.string().meta({ description: 'The job id: 128 random bits.' }),
      kind: z.enum(JOB_KINDS),
      status: z.enum(JOB_STATUSES).meta({ description: 'queued → running → succeeded | failed; canceled on request; expired once its result is gone.' }),
      created_at: z.string().meta({ format: 'date-time' }),
      started_at: time('When it last started running'),
      finished_at: time('When it reached a final state'),
      expires_at: time('When its result and input will be deleted'),
      queue_position: z.number().int().nullable().meta({ description: 'While queued: 1 for the next job of its kind to start.' }),
      logid: z.string().meta({ description: 'The log id of the submitting request; every backend call of the job carries it.' }),
      result_url: z.string().nullable().meta({ description: 'Once succeeded: where the result is.' }),
      error: Problem.nullable().meta({ description: 'Once failed: the problem the synchronous route would have answered.' }),
    })
    .meta({ title: 'Job', example: EXAMPLE_JOB }),
);

export const JobList = named(
  'JobList',
  z
    .object({
      jobs: z.array(Job),
      next_cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last one.' }),
    })
    .meta({ example: { jobs: [EXAMPLE_JOB], next_cursor: null } }),
);

export const JobParams = z.object({ id: z.string().meta({ description: 'The job id.', example: 'job_7JqZ0m2cVb1u7Kp3d9sWfA' }) });

export const JobListQuery = z.strictObject({
  status: z.enum(JOB_STATUSES, { error: `must be one of ${JOB_STATUSES.join(', ')}` }).optional().meta({ description: 'Only jobs in this state.' }),
  limit: z
    .number({ error: 'must be an integer from 1 to 100' })
    .int('must be an integer from 1 to 100')
    .min(1, 'must be an integer from 1 to 100')
    .max(100, 'must be an integer from 1 to 100')
    .default(20)
    .meta({ description: 'Jobs per page.' }),
  cursor: z.string().optional().meta({ description: 'From `next_cursor` of the page before.' }),
});

/** The headers a submit may carry to run as a job (documented on the routes that can). */
export const SubmitHeaders = z.object({
  prefer: z
    .string()
    .optional()
    .meta({
      description:
        '`respond-async` to get a job at once (202) instead of waiting for the result; `respond-async, wait=N` waits up to N seconds ' +
        '(at most 60) and answers as without it when the job finishes in time.',
      // No `example`: Swagger UI would pre-fill it, and "Try it out" would make a job instead of the answer.
    }),
  'idempotency-key': z
    .string()
    .optional()
    .meta({ description: 'With `respond-async`: the same key and request within 24 hours return the same job, never a second one.' }),
});

/** The 202 of a route that can run as a job. */
export const JOB_ACCEPTED = {
  202: {
    description: 'With `Prefer: respond-async`: the job, at `Location` (`/v1/jobs/{id}`), with `Preference-Applied: respond-async`.',
    content: { 'application/json': { schema: ref(Job) } },
  },
};

/** What a submit with `Prefer: respond-async` can be refused for, besides its input. */
export const SUBMIT_ERRORS: ErrorCode[] = ['TOO_MANY_JOBS', 'IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_KEY_IN_USE'];
