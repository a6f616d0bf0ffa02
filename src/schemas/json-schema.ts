import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/** The OpenAPI 3.0 form of a zod schema: what a client may send (`io: 'input'`). */
export function jsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as JsonSchema;
  return rest;
}

/** An integer field with one message for every way it can be wrong. */
export function intRange(min: number, max: number) {
  const message = `must be an integer from ${min} to ${max}`;
  return z.number({ error: message }).int(message).min(min, message).max(max, message);
}
