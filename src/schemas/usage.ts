import { z } from 'zod';
import { USAGE_FIELDS } from '../usage/counts.js';
import { named } from './json-schema.js';

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine((d) => {
    const t = Date.parse(`${d}T00:00:00Z`);
    return Number.isFinite(t) && new Date(t).toISOString().startsWith(d);
  }, 'must be a real date')
  .meta({ example: '2026-11-28' });

/** Longest range one call answers: a year, leap day included. */
export const MAX_USAGE_DAYS = 366;

export const UsageQuery = z.strictObject({
  from: date.optional().meta({ description: 'First UTC day, YYYY-MM-DD; default: today.' }),
  to: date.optional().meta({ description: `Last UTC day, included; default: \`from\`. At most ${MAX_USAGE_DAYS} days after \`from\`.` }),
});

const counts = named('UsageCounts', z.object(Object.fromEntries(USAGE_FIELDS.map((f) => [f, z.number().int()])) as Record<(typeof USAGE_FIELDS)[number], z.ZodNumber>).meta({
  description:
    '`requests` answered: `succeeded` (2xx), `client_errors` (4xx: refused for the request itself, keys or limits), `server_errors` (5xx); ' +
    '`bytes_in` (the request body: its Content-Length, or the bytes read of a chunked one) and `bytes_out`; `images` processed by the backends and `backend_ms`, time in backend calls (for a job, on the day its call ended); `jobs` submitted.',
}));

export const UsageAnswer = named('Usage', z
  .object({
    partner: z.string(),
    from: z.string(),
    to: z.string(),
    days: z.array(z.object({ date: z.string(), routes: z.record(z.string(), counts) })),
  })
  .meta({
    example: {
      partner: 'acme',
      from: '2026-11-28',
      to: '2026-11-28',
      days: [
        {
          date: '2026-11-28',
          routes: {
            '/v1/keypoints': { requests: 12, succeeded: 10, client_errors: 2, server_errors: 0, bytes_in: 1228800, bytes_out: 48210, images: 10, backend_ms: 420, jobs: 0 },
          },
        },
      ],
    },
  }));
export type UsageAnswer = z.infer<typeof UsageAnswer>;
