import type { FastifyPluginAsync } from 'fastify';
import { ApiError, PARTNER_ERRORS } from '../errors.js';
import { parseOptions, queryOptions } from '../input/options.js';
import { jsonSchema, ref } from '../schemas/json-schema.js';
import { problemResponses } from '../schemas/problem.js';
import { MAX_USAGE_DAYS, UsageAnswer, UsageQuery } from '../schemas/usage.js';
import { datesBetween, DAY_MS, utcDate } from '../usage/counts.js';

const usageRoute: FastifyPluginAsync = async (app) => {
  app.get(
    '/v1/usage',
    {
      schema: {
        operationId: 'getUsage',
        tags: ['usage'],
        summary: "The calling partner's own usage, per UTC day and route",
        description: 'Counts are written once a second by each gateway process, so the last second may not show yet.',
        querystring: jsonSchema(UsageQuery),
        response: {
          200: { description: 'Every day of the range, with the routes used that day.', content: { 'application/json': { schema: ref(UsageAnswer) } } },
          ...problemResponses([...PARTNER_ERRORS, 'INVALID_ARGUMENT']),
        },
      },
    },
    async (request): Promise<UsageAnswer> => {
      const query = parseOptions(UsageQuery, { text: queryOptions(request.query) });
      const from = query.from ?? utcDate(Date.now());
      const to = query.to ?? from;
      // Counted before any list of days is made: a range of centuries must cost nothing.
      const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
      if (days < 1 || days > MAX_USAGE_DAYS) {
        throw new ApiError('INVALID_ARGUMENT', `Invalid argument: "to" must be from "from" to ${MAX_USAGE_DAYS - 1} days after it.`, {
          errors: [{ field: 'to', message: `must be from "from" to ${MAX_USAGE_DAYS - 1} days after it` }],
        });
      }
      const rows = await app.usage.read(from, to, request.partner);
      return {
        partner: request.partner,
        from,
        to,
        days: datesBetween(from, to).map((date) => ({
          date,
          routes: Object.fromEntries(rows.filter((r) => r.date === date).map((r) => [r.route, r.counts])),
        })),
      };
    },
  );
};

export default usageRoute;
