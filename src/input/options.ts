import type { z } from 'zod';
import { ApiError, describeIssues, quoted } from '../errors.js';
import { RawString } from './json-body.js';
import { jsonSchema } from '../schemas/json-schema.js';

const NUMBER = /^-?\d+(\.\d+)?$/;

/** Option values as they came: text (query string, multipart fields) and JSON (body members). */
export interface OptionValues {
  text: Record<string, unknown>;
  json?: Record<string, unknown>;
}

/**
 * A request's query parameters, as option text. One given more than once is refused, on every
 * route alike: which of its values was meant is a guess.
 */
export function queryOptions(query: unknown): Record<string, unknown> {
  const values = (query ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(values)) {
    if (Array.isArray(value)) throw givenTwice('Query parameter', key);
  }
  return values;
}

const givenTwice = (what: string, key: string) =>
  new ApiError('INVALID_ARGUMENT', `${what} ${quoted(key)} is given more than once.`, { errors: [{ field: key, message: 'is given more than once' }] });

/**
 * The text options of a multipart form: its fields over the query's (a body value wins), each
 * field once, as a query parameter must be.
 */
export class FormOptions {
  readonly text: Record<string, unknown>;
  private readonly given = new Set<string>();

  constructor(query: Record<string, unknown>) {
    this.text = { ...query };
  }

  add(name: string, value: unknown): void {
    if (this.given.has(name)) throw givenTwice('Form field', name);
    this.given.add(name);
    this.text[name] = value;
  }
}

/**
 * Validates a route's options with its zod schema, whichever form they came in. Text values
 * that the schema declares numeric are converted first when they look like numbers (anything
 * else fails validation with the field's message); JSON values are taken as they are, and win
 * over text values of the same name.
 */
export function parseOptions<S extends z.ZodObject>(schema: S, values: OptionValues): z.output<S> {
  const parsed = schema.safeParse({ ...fromText(schema, values.text), ...fromJson(values.json) });
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: key, message: 'is not a known field' }))
      : [{ field: issue.path.join('.') || '(body)', message: issue.message }],
  );
  throw new ApiError('INVALID_ARGUMENT', `Invalid argument: ${describeIssues(errors)}.`, { errors });
}

/** JSON members as JSON.parse would give them: a long string is read from the body only now. */
function fromJson(values: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  return values && Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v instanceof RawString ? v.text() : v]));
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
