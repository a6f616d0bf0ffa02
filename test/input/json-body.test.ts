import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import sjson from 'secure-json-parse';
import { decodeBase64 } from '../../src/input/base64.js';
import { JsonSyntaxError, parseJsonBody, RawString, type JsonValue } from '../../src/input/json-body.js';

/** What fastify's default parser says of a body: a value, or that it is refused. */
function reference(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: sjson.parse(body.toString('utf8'), undefined, { protoAction: 'error', constructorAction: 'error' }) };
  } catch {
    return { ok: false };
  }
}

/** Ours, with every raw string read as text (which is where its verdict on control characters comes). */
function ours(body: Buffer, rawStringBytes: number): { ok: true; value: unknown } | { ok: false } {
  const materialise = (v: JsonValue): unknown =>
    v instanceof RawString ? v.text() : Array.isArray(v) ? v.map(materialise) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, materialise(x)])) : v;
  try {
    return { ok: true, value: materialise(parseJsonBody(body, { rawStringBytes, maxDepth: 64, maxValues: Infinity })) };
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    return { ok: false };
  }
}

// A small deterministic generator, so a failure can be replayed from its seed.
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

const ATOMS = ['__proto__', 'constructor', 'prototype', 'image', 'é', '\u2028', '\ud83d\ude00', '\\', '"', '\n', 'QUJD', '==', ''];
const NOISE = ['"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\t', '\u0001', '\u00ff', '0', '-', '.', 'e', '+', 'n', 't', 'f', '\\u', '\\u00', '\\ud800', '\xc3', '\ufeff'];

function randomValue(r: () => number, depth: number): unknown {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const k = r();
  if (depth > 4 || k < 0.35) {
    const leaf = r();
    if (leaf < 0.3) return Array.from({ length: Math.floor(r() * 4) }, () => pick(ATOMS)).join('') + randomBytes(Math.floor(r() * 20)).toString('base64');
    if (leaf < 0.55) return pick([0, -0, 1, -1, 1.5, 1e21, 1e-7, 123456789012345680000, Number.MAX_SAFE_INTEGER, 3.14159]);
    return pick([true, false, null]);
  }
  if (k < 0.65) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, () => [pick(ATOMS) + pick(['', 'x', 'data']), randomValue(r, depth + 1)]));
}

function mutate(r: () => number, text: string): string {
  const n = Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (text.length + 1));
    const op = r();
    const noise = NOISE[Math.floor(r() * NOISE.length)]!;
    text = op < 0.4 ? text.slice(0, at) + noise + text.slice(at) : op < 0.7 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + noise + text.slice(at + 1);
  }
  return text;
}

test('gives JSON.parse verdicts and values, with fastify protections, on 30 000 random and mutated documents', () => {
  for (let seed = 1; seed <= 30_000; seed++) {
    const r = rng(seed);
    let text = JSON.stringify(randomValue(r, 0)) ?? 'null';
    // Hand-written spacing and escapes that JSON.stringify never produces.
    if (r() < 0.3) text = text.replace(/,/g, ' ,\n\t').replace(/:/g, ' : ');
    if (r() < 0.2) text = text.replace(/a/g, '\\u0061');
    if (r() < 0.7) text = mutate(r, text);
    const body = r() < 0.1 ? Buffer.concat([Buffer.from(text), Buffer.from([0xff, 0xc3])]) : Buffer.from(text);
    const expected = reference(body);
    for (const rawStringBytes of [1, 8, 1 << 20]) {
      assert.deepEqual(ours(body, rawStringBytes), expected, `seed ${seed}, rawStringBytes ${rawStringBytes}: ${JSON.stringify(text)}`);
    }
  }
});

test('refuses prototype poisoning, escaped or not, as fastify does', () => {
  for (const text of ['{"__proto__":{"x":1}}', '{"\\u005f_proto__":1}', '{"a":[{"__proto__":null}]}', '{"constructor":{"prototype":{}}}']) {
    assert.equal(ours(Buffer.from(text), 1).ok, false, text);
  }
  assert.deepEqual(ours(Buffer.from('{"constructor":{"name":"x"},"prototype":1}'), 1), { ok: true, value: { constructor: { name: 'x' }, prototype: 1 } });
});

test('limits nesting to 64 levels, where JSON.parse would go on', () => {
  const nested = (n: number) => Buffer.from('['.repeat(n) + ']'.repeat(n));
  assert.equal(ours(nested(64), 1).ok, true);
  assert.equal(ours(nested(65), 1).ok, false);
  assert.equal(ours(Buffer.from('{"a":'.repeat(100_000)), 1).ok, false);
});

test('leaves a long base64 member in the body buffer, and decodes it from there', async () => {
  const image = randomBytes(300_000);
  const body = Buffer.from(JSON.stringify({ image: image.toString('base64'), max_faces: 3 }));
  const parsed = parseJsonBody(body, { rawStringBytes: 1024, maxDepth: 64, maxValues: 10_000 }) as { image: RawString; max_faces: number };
  assert.ok(parsed.image instanceof RawString);
  assert.equal(parsed.image.bytes.buffer, body.buffer, 'a view of the body, not a copy');
  assert.deepEqual(await decodeBase64(parsed.image, 'image'), image);
  assert.equal(parsed.max_faces, 3);
});

test('decodes raw and string base64 with the same verdicts, in steps for big payloads', async () => {
  const r = rng(7);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const odd = '=-_ é.\\';
  for (let i = 0; i < 3000; i++) {
    let s = randomBytes(1 + Math.floor(r() * 12)).toString('base64');
    if (r() < 0.5) {
      const at = Math.floor(r() * s.length);
      const c = r() < 0.5 ? odd[Math.floor(r() * odd.length)]! : alphabet[Math.floor(r() * 64)]!;
      s = s.slice(0, at) + c + s.slice(at + 1);
    }
    const verdict = (p: Promise<Buffer>) => p.then((b) => b.toString('hex'), (e: Error & { code?: string }) => e.code);
    assert.equal(await verdict(decodeBase64(new RawString(Buffer.from(s, 'latin1')), 'f')), await verdict(decodeBase64(s, 'f')), JSON.stringify(s));
  }
  // A control character makes the body invalid JSON before it is bad base64.
  await assert.rejects(decodeBase64(new RawString(Buffer.from('QUJD\u0001A==')), 'f'), { code: 'INVALID_JSON' });
  const big = randomBytes(3 * 1024 * 1024 + 5);
  assert.deepEqual(await decodeBase64(new RawString(Buffer.from(big.toString('base64'))), 'f'), big);
  const broken = Buffer.from(big.toString('base64'));
  broken[2 * 1024 * 1024 + 17] = 0x2d; // "-", in a later step
  await assert.rejects(decodeBase64(new RawString(broken), 'f'), /character "-" at position 2097169/);
});
