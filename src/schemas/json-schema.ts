import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

// OpenAPI 3.1 schemas are JSON Schema 2020-12.
const TARGET = 'draft-2020-12';

/** The JSON Schema of a zod schema, inline: what a client may send (`io: 'input'`). */
export function jsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: TARGET, io: 'input' });
  return rest;
}

/**
 * The schemas the OpenAPI document names in `components.schemas` (answers, problem, options,
 * request bodies), so that a generated client gets named types rather than anonymous ones.
 */
const components = z.registry<{ id: string }>();
const componentPath = (id: string) => `#/components/schemas/${id}`;

const byId = new Map<string, z.ZodType>();

/** Names `schema` in the OpenAPI document's components; returns it unchanged. */
export function named<T extends z.ZodType>(id: string, schema: T): T {
  components.add(schema, { id });
  byId.set(id, schema);
  return schema;
}

/** The inline JSON Schema that a `{ $ref }` made by ref() stands for; any other schema as it is. */
export function resolveRef(schema: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  const named = typeof ref === 'string' && ref.startsWith(componentPath('')) ? byId.get(ref.slice(componentPath('').length)) : undefined;
  return named ? jsonSchema(named) : schema;
}

/** `{ $ref }` to a named schema. */
export function ref(schema: z.ZodType): { $ref: string } {
  const id = components.get(schema)?.id;
  if (!id) throw new Error('ref() of a schema that named() has not named');
  return { $ref: componentPath(id) };
}

/** Request bodies made of a route's options and more: request body -> its options. */
const bodiesOfOptions = new Map<z.core.$ZodType, z.ZodObject>();

/**
 * A named request body: the named `options` and the members in `shape`. In the document it is
 * `allOf` the options' component and the rest, so a generated client's body type is built
 * from its options type; `unevaluatedProperties` keeps it as strict as the zod schema. An
 * `example` is the whole body's (Swagger UI sends it as the pre-filled body).
 */
export function namedBody<S extends z.core.$ZodLooseShape>(id: string, options: z.ZodObject, shape: S, meta?: { example: unknown }) {
  const body = named(id, meta ? options.extend(shape).meta(meta) : options.extend(shape));
  bodiesOfOptions.set(body, options);
  return body;
}

/** Every named schema, for `components.schemas`. */
export function componentSchemas(): Record<string, JsonSchema> {
  const optionSets = new Set(bodiesOfOptions.values());
  const { schemas } = z.toJSONSchema(components, {
    target: TARGET,
    io: 'input',
    uri: componentPath,
    override: ({ zodSchema, jsonSchema: json }) => {
      const options = bodiesOfOptions.get(zodSchema);
      if (options) {
        const own = Object.keys(options.shape);
        const properties = Object.fromEntries(Object.entries(json.properties ?? {}).filter(([k]) => !own.includes(k)));
        const required = (json.required ?? []).filter((k) => !own.includes(k));
        const { example } = json as { example?: unknown };
        for (const key of Object.keys(json)) delete json[key];
        Object.assign(json, {
          allOf: [ref(options), { type: 'object', properties, ...(required.length ? { required } : {}) }],
          unevaluatedProperties: false,
          ...(example !== undefined && { example }),
        });
      } else if (zodSchema instanceof z.ZodObject && optionSets.has(zodSchema)) {
        // Strict through the bodies' `unevaluatedProperties`: `false` here would refuse their other members.
        delete json.additionalProperties;
      }
    },
  });
  // By name: the order schemas were named in follows module loading, which any import can change.
  return Object.fromEntries(
    Object.entries(schemas)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, { $schema: _, $id: __, ...rest }]) => [id, rest]),
  );
}

/** An integer field with one message for every way it can be wrong. */
export function intRange(min: number, max: number) {
  const message = `must be an integer from ${min} to ${max}`;
  return z.number({ error: message }).int(message).min(min, message).max(max, message);
}
