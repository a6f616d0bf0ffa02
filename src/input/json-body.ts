/**
 * JSON bodies parsed from their bytes, with long strings left in the body buffer.
 *
 * fastify's default parser decodes the whole body to a JS string, scans it for
 * prototype-poisoning keys and then builds every member as a string again: a base64 image is
 * materialised twice before it is even decoded. Here a string of at least `rawStringBytes`
 * without escapes becomes a {@link RawString}: a view of its bytes, found with a native
 * `indexOf`, that base64 decoding reads directly. The verdicts are JSON.parse's (fuzzed
 * against it in test/input/json-body.test.ts), with fastify's protections kept: `__proto__`
 * keys and `constructor.prototype` are refused, and nesting is limited.
 *
 * What a body may cost is bounded while it is parsed, not after: the number of values
 * (members and elements) is limited, and an object whose {@link JsonShape} is closed ends the
 * parse at its first unknown member. A body of a million tiny members would otherwise hold the
 * event loop for seconds and the heap for a gigabyte before the route's schema refused it.
 */

import { ApiError, quoted } from '../errors.js';

/** A body JSON.parse would refuse: the catalogue's INVALID_JSON, saying what is wrong and where. */
export class JsonSyntaxError extends ApiError {
  constructor(detail: string) {
    super('INVALID_JSON', `The body is not valid JSON: ${detail}.`);
  }
}

/** A JSON string's bytes, not yet decoded: no escapes in them, and not yet checked for control characters. */
export class RawString {
  constructor(readonly bytes: Buffer) {}

  get length(): number {
    return this.bytes.length;
  }

  /** The string JSON.parse would give, or its verdict (naming `field`, when given). */
  text(field?: string): string {
    const at = this.bytes.findIndex((b) => b < 0x20);
    if (at >= 0) throw new JsonSyntaxError(`Bad control character in string literal${field ? ` in "${field}"` : ''}`);
    return this.bytes.toString('utf8');
  }
}

/** The members an object may have (all of them, when `closed`), and the shape of an array's elements. */
export interface JsonShape {
  members?: Record<string, JsonShape>;
  closed?: boolean;
  items?: JsonShape;
}

/** The shape a JSON Schema (a route's OpenAPI body) describes: objects with `additionalProperties: false` are closed. */
export function shapeOf(schema: Record<string, unknown> | undefined): JsonShape | undefined {
  if (!schema) return undefined;
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  const items = schema.items as Record<string, unknown> | undefined;
  if (!properties && !items) return undefined;
  return {
    ...(properties ? { members: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, shapeOf(v) ?? {}])), closed: schema.additionalProperties === false } : {}),
    ...(items ? { items: shapeOf(items) ?? {} } : {}),
  };
}

export interface JsonBodyOptions {
  /** Strings at least this long (in bytes, between the quotes) with no escapes stay {@link RawString}s. */
  rawStringBytes: number;
  maxDepth: number;
  /** Values (members and elements, at any depth) a body may hold. */
  maxValues: number;
  /** What the body may hold; anything, when undefined. */
  shape?: JsonShape;
}

export type JsonValue = null | boolean | number | string | RawString | JsonValue[] | { [key: string]: JsonValue };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export function parseJsonBody(body: Buffer, options: JsonBodyOptions): JsonValue {
  return new Parser(body, options).document();
}

class Parser {
  private pos = 0;
  private values = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly options: JsonBodyOptions,
  ) {}

  document(): JsonValue {
    // A UTF-8 byte order mark is skipped, as fastify's parser does.
    if (this.buf[0] === 0xef && this.buf[1] === 0xbb && this.buf[2] === 0xbf) this.pos = 3;
    this.space();
    if (this.pos >= this.buf.length) throw this.fail('Unexpected end of JSON input');
    const value = this.value(0, this.options.shape, '');
    this.space();
    if (this.pos < this.buf.length) throw this.unexpected();
    return value;
  }

  private fail(message: string): JsonSyntaxError {
    return new JsonSyntaxError(message);
  }

  private unexpected(): JsonSyntaxError {
    if (this.pos >= this.buf.length) return this.fail('Unexpected end of JSON input');
    const c = this.buf[this.pos]!;
    const shown = c >= 0x20 && c < 0x7f ? `"${String.fromCharCode(c)}"` : `byte 0x${c.toString(16).padStart(2, '0')}`;
    return this.fail(`Unexpected ${shown} at position ${this.pos}`);
  }

  private space(): void {
    const buf = this.buf;
    let c = buf[this.pos];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = buf[++this.pos];
  }

  /** `path` names the value in an answer (`images[2]`); it is kept only where a shape can need it. */
  private value(depth: number, shape: JsonShape | undefined, path: string): JsonValue {
    if (++this.values > this.options.maxValues) {
      throw new ApiError('PAYLOAD_TOO_LARGE', `The JSON body holds more than ${this.options.maxValues} values (members and elements); no request needs that many.`);
    }
    switch (this.buf[this.pos]) {
      case 0x7b:
        return this.object(depth + 1, shape, path);
      case 0x5b:
        return this.array(depth + 1, shape, path);
      case QUOTE:
        return this.string(true);
      case 0x74:
        return this.literal('true', true);
      case 0x66:
        return this.literal('false', false);
      case 0x6e:
        return this.literal('null', null);
      default:
        return this.number();
    }
  }

  private nest(depth: number): void {
    if (depth > this.options.maxDepth) throw this.fail(`Nesting deeper than ${this.options.maxDepth} levels`);
  }

  private object(depth: number, shape: JsonShape | undefined, path: string): { [key: string]: JsonValue } {
    this.nest(depth);
    const out: { [key: string]: JsonValue } = {};
    this.pos++;
    this.space();
    if (this.buf[this.pos] === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      if (this.buf[this.pos] !== QUOTE) throw this.unexpected();
      const key = this.string(false) as string;
      if (key === '__proto__') throw this.fail('Object contains forbidden prototype property');
      const member = shape?.members && Object.hasOwn(shape.members, key) ? shape.members[key] : undefined;
      const field = shape ? (path ? `${path}.${key}` : key) : '';
      if (shape?.closed && !member) {
        throw new ApiError('INVALID_ARGUMENT', `Invalid argument: ${quoted(field)} is not a known field.`, { errors: [{ field, message: 'is not a known field' }] });
      }
      this.space();
      if (this.buf[this.pos] !== 0x3a) throw this.unexpected();
      this.pos++;
      this.space();
      out[key] = this.value(depth, member, field);
      this.space();
      const c = this.buf[this.pos];
      this.pos++;
      if (c === 0x7d) break;
      if (c !== 0x2c) {
        this.pos--;
        throw this.unexpected();
      }
      this.space();
    }
    const ctor = Object.hasOwn(out, 'constructor') ? out.constructor : undefined;
    if (ctor !== null && typeof ctor === 'object' && Object.hasOwn(ctor, 'prototype')) {
      throw this.fail('Object contains forbidden prototype property');
    }
    return out;
  }

  private array(depth: number, shape: JsonShape | undefined, path: string): JsonValue[] {
    this.nest(depth);
    const out: JsonValue[] = [];
    this.pos++;
    this.space();
    if (this.buf[this.pos] === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth, shape?.items, shape?.items ? `${path}[${out.length}]` : ''));
      this.space();
      const c = this.buf[this.pos];
      this.pos++;
      if (c === 0x5d) return out;
      if (c !== 0x2c) {
        this.pos--;
        throw this.unexpected();
      }
      this.space();
    }
  }

  private literal<T>(word: string, value: T): T {
    for (let i = 0; i < word.length; i++) {
      if (this.buf[this.pos] !== word.charCodeAt(i)) throw this.unexpected();
      this.pos++;
    }
    return value;
  }

  private number(): number {
    const buf = this.buf;
    const start = this.pos;
    const digits = () => {
      const from = this.pos;
      while (buf[this.pos]! >= 0x30 && buf[this.pos]! <= 0x39) this.pos++;
      if (this.pos === from) throw this.unexpected();
    };
    if (buf[this.pos] === 0x2d) this.pos++;
    if (buf[this.pos] === 0x30) this.pos++;
    else digits();
    if (buf[this.pos] === 0x2e) {
      this.pos++;
      digits();
    }
    if (buf[this.pos] === 0x65 || buf[this.pos] === 0x45) {
      this.pos++;
      if (buf[this.pos] === 0x2b || buf[this.pos] === 0x2d) this.pos++;
      digits();
    }
    return Number(buf.toString('latin1', start, this.pos));
  }

  /** A string token; a long one without escapes stays raw where `mayStayRaw`. */
  private string(mayStayRaw: boolean): string | RawString {
    const buf = this.buf;
    const start = this.pos + 1;
    const end = buf.indexOf(QUOTE, start);
    if (end < 0) {
      this.pos = buf.length;
      throw this.fail('Unterminated string in JSON');
    }
    if (mayStayRaw && end - start >= this.options.rawStringBytes && buf.subarray(start, end).indexOf(BACKSLASH) < 0) {
      this.pos = end + 1;
      return new RawString(buf.subarray(start, end));
    }
    // Short, or with escapes: find the real end, then let JSON.parse read exactly that token.
    let plain = true;
    let i = start;
    for (;;) {
      if (i >= buf.length) {
        this.pos = buf.length;
        throw this.fail('Unterminated string in JSON');
      }
      const c = buf[i]!;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        plain = false;
        i += 2;
        continue;
      }
      if (c < 0x20) {
        this.pos = i;
        throw this.fail(`Bad control character in string literal at position ${i}`);
      }
      if (c >= 0x80) plain = false;
      i++;
    }
    this.pos = i + 1;
    if (plain) return buf.toString('latin1', start, i);
    try {
      return JSON.parse(buf.toString('utf8', start - 1, i + 1)) as string;
    } catch (err) {
      throw this.fail(`${(err as Error).message.replace(/ in JSON at position \d+.*$/, '')} in the string at position ${start - 1}`);
    }
  }
}
