import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ApiError } from '../errors.js';
import { RawString } from './json-body.js';

const DATA_URI = /^data:([a-z]+\/[a-z0-9.+-]+)?;base64,/i;

/**
 * Characters decoded per step. Each step's text is a string under V8's large-object size, so
 * it dies young and is freed by the next scavenge; big payloads leave the event loop free
 * every `STEPS_PER_TURN` steps.
 */
const STEP_CHARS = 64 * 1024;
const STEPS_PER_TURN = 16;

/** 1 for each byte of the standard base64 alphabet, 0 elsewhere. */
const ALPHABET = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') ALPHABET[c.charCodeAt(0)] = 1;

/**
 * Decodes standard base64 (RFC 4648 §4, padded), with or without a `data:...;base64,` prefix,
 * from a string or straight from a JSON body's bytes. Anything else is refused rather than
 * decoded leniently the way Buffer.from would: characters outside the alphabet (whitespace,
 * URL-safe `-_` included), missing or misplaced padding, a length that is not a multiple of
 * four, non-zero bits after the last byte.
 *
 * Node's decoder does the work: it skips characters outside the alphabet and stops at "=",
 * so a step that yields fewer bytes than its length promises holds a bad character (the
 * URL-safe ones, which it accepts, are looked for apart). Only then is the text scanned, to
 * say where.
 */
export async function decodeBase64(value: string | RawString, field: string, allocate: (size: number) => Buffer = Buffer.allocUnsafe): Promise<Buffer> {
  const slice = typeof value === 'string' ? (a: number, b: number) => value.slice(a, b) : (a: number, b: number) => value.bytes.toString('latin1', a, b);
  // The character at a position, for a message: a string kept as bytes is UTF-8 (slice reads it
  // as Latin-1, one character a byte); the characters before a bad one are all base64, so its
  // byte position is its character position too.
  const charAt = typeof value === 'string' ? (i: number) => String.fromCodePoint(value.codePointAt(i)!) : (i: number) => [...value.bytes.toString('utf8', i, i + 4)][0]!;
  const prefix = DATA_URI.exec(slice(0, 128));
  const offset = prefix ? prefix[0].length : 0;
  const length = value.length - offset;
  const fail = (why: string) => {
    // A control character makes the body itself invalid JSON, which is what JSON.parse would say.
    if (value instanceof RawString) value.text(field);
    return new ApiError('INVALID_BASE64', `"${field}" is not valid base64: ${why}.`, { errors: [{ field, message: why }] });
  };
  if (length === 0) throw fail('it is empty');
  if (length % 4 !== 0) throw fail(`its length (${length}) is not a multiple of 4; standard base64 is padded with "="`);
  const tail = slice(offset + length - 4, offset + length);
  const pad = tail.endsWith('==') ? 2 : tail.endsWith('=') ? 1 : 0;
  const out = allocate((length / 4) * 3 - pad);
  for (let at = 0; at < length; at += STEP_CHARS) {
    if (at > 0 && (at / STEP_CHARS) % STEPS_PER_TURN === 0) await yieldToLoop();
    const chars = slice(offset + at, offset + Math.min(at + STEP_CHARS, length));
    const last = at + STEP_CHARS >= length;
    const expected = (chars.length / 4) * 3 - (last ? pad : 0);
    if (out.write(chars, (at / 4) * 3, 'base64') !== expected || chars.includes('-') || chars.includes('_')) {
      throw fail(firstBadCharacter(chars, last ? pad : 0, offset + at, charAt));
    }
  }
  // Non-canonical encodings ("QR==" for "A") decode to the same bytes as a different string.
  if (pad > 0 && Buffer.from(tail, 'base64').toString('base64') !== tail) throw fail('the bits after its last byte are not zero');
  return out;
}

function firstBadCharacter(chars: string, pad: number, offset: number, charAt: (i: number) => string): string {
  for (let i = 0; i < chars.length - pad; i++) {
    const c = chars.charCodeAt(i);
    if (c > 255 || ALPHABET[c] === 0) {
      const shown = c === 61 ? '"=" before the end' : `character ${JSON.stringify(charAt(offset + i))}`;
      return `${shown} at position ${offset + i} is not in the standard base64 alphabet`;
    }
  }
  return 'it does not decode';
}
