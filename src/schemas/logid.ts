import { z } from 'zod';

/**
 * On an answer from a job's result: the submitting request's log id (the job's `logid`), under
 * which the job ran and its backend call went. The answer's own `logid` is the result request's.
 */
export const jobLogid = z
  .string()
  .optional()
  .meta({ description: 'On a job\'s result: the log id of the request that submitted the job, which its run\'s log lines and backend call carry.' });
