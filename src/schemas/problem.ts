import { z } from 'zod';
import { ApiError, CATALOGUE, ERROR_CODES, toProblem, type ErrorCode } from '../errors.js';
import { named, ref } from './json-schema.js';
import { jobLogid } from './logid.js';

export const Problem = named(
  'Problem',
  z
    .object({
      type: z.string().meta({ example: 'about:blank' }),
      title: z.string().meta({ example: 'Bad Request' }),
      status: z.number().meta({ example: 400 }),
      code: z.enum(ERROR_CODES).meta({ example: 'INVALID_BASE64' }),
      message: z.string().meta({ example: '"image" is not valid base64: character "*" at position 12 is not in the standard base64 alphabet.' }),
      detail: z.string().meta({ description: 'The same text as `message` (RFC 9457).' }),
      logid: z.string().meta({ description: 'The log id of the request answered, as in its `X-Tt-Logid` header; in a job\'s `error`, the submitting request\'s.', example: '20261125081500A1B2C3D4E5F60718' }),
      job_logid: jobLogid,
      errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    })
    .meta({ title: 'Problem', description: 'RFC 9457 problem details, with the gateway\'s error code and log id.' }),
);

const exampleProblem = (code: ErrorCode) => ({
  ...toProblem(new ApiError(code), '20261125081500A1B2C3D4E5F60718'),
});

/** OpenAPI response entries for the given error codes, grouped by status. */
export function problemResponses(codes: ErrorCode[]): Record<number, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(CATALOGUE[code].status, [...(byStatus.get(CATALOGUE[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      {
        description: list.map((c) => `\`${c}\`: ${CATALOGUE[c].message}`).join(' '),
        content: {
          'application/problem+json': {
            schema: ref(Problem),
            examples: Object.fromEntries(list.map((code) => [code, { summary: CATALOGUE[code].message, value: exampleProblem(code) }])),
          },
        },
      },
    ]),
  );
}
