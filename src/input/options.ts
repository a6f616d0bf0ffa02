import type { z } from 'zod';
import { ApiError } from '../errors.js';
import { jsonSchema } from '../schemas/json-schema.js';

const NUMBER = /^-?\d+(\.\d+)?$/;

/**
 * Validates a route's options with its zod schema, whichever form they came in. Values from a
 * query string or multipart fields are text: those the schema declares numeric are converted
 * first when they look like numbers (anything else fails validation with the field's message).
 */
export function parseOptions<S extends z.ZodObject>(schema: S, values: Record<string, unknown>, asText: boolean): z.output<S> {
  const input = asText ? fromText(schema, values) : values;
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: key, message: 'is not a known field' }))
      : [{ field: issue.path.join('.') || '(body)', message: issue.message }],
  );
  const message = errors.map((e) => `"${e.field}" ${e.message}`).join('; ');
  throw new ApiError('INVALID_ARGUMENT', `Invalid argument: ${message}.`, { errors });
}

const numericFields = new WeakMap<z.ZodObject, Set<string>>();

function fromText(schema: z.ZodObject, values: Record<string, unknown>): Record<string, unknown> {
  let numeric = numericFields.get(schema);
  if (!numeric) {
    const properties = (jsonSchema(schema).properties ?? {}) as Record<string, { type?: string }>;
    numeric = new Set(Object.keys(properties).filter((k) => properties[k]!.type === 'integer' || properties[k]!.type === 'number'));
    numericFields.set(schema, numeric);
  }
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, numeric.has(k) && typeof v === 'string' && NUMBER.test(v) ? Number(v) : v]),
  );
}
