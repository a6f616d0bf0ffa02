import { ApiError } from '../errors.js';

const DATA_URI = /^data:([a-z]+\/[a-z0-9.+-]+)?;base64,/i;

/** 1 for each byte of the standard base64 alphabet, 0 elsewhere. */
const ALPHABET = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') ALPHABET[c.charCodeAt(0)] = 1;

/**
 * Decodes standard base64 (RFC 4648 §4, padded), with or without a `data:...;base64,` prefix.
 * Anything else is refused rather than decoded leniently the way Buffer.from would:
 * characters outside the alphabet (whitespace, URL-safe `-_` included), missing or misplaced
 * padding, a length that is not a multiple of four, non-zero bits after the last byte.
 */
export function decodeBase64(value: string, field: string): Buffer {
  const prefix = DATA_URI.exec(value);
  const body = prefix ? value.slice(prefix[0].length) : value;
  const offset = prefix ? prefix[0].length : 0;
  const fail = (why: string) => new ApiError('INVALID_BASE64', `"${field}" is not valid base64: ${why}.`, { errors: [{ field, message: why }] });
  if (body.length === 0) throw fail('it is empty');
  if (body.length % 4 !== 0) throw fail(`its length (${body.length}) is not a multiple of 4; standard base64 is padded with "="`);
  const pad = body.endsWith('==') ? 2 : body.endsWith('=') ? 1 : 0;
  const end = body.length - pad;
  for (let i = 0; i < end; i++) {
    const c = body.charCodeAt(i);
    if (c > 255 || ALPHABET[c] === 0) {
      const shown = c === 61 ? '"=" before the end' : `character ${JSON.stringify(body[i])}`;
      throw fail(`${shown} at position ${offset + i} is not in the standard base64 alphabet`);
    }
  }
  // Non-canonical encodings ("QR==" for "A") decode to the same bytes as a different string.
  const last = body.slice(-4);
  if (pad > 0 && Buffer.from(last, 'base64').toString('base64') !== last) throw fail('the bits after its last byte are not zero');
  return Buffer.from(body, 'base64');
}
