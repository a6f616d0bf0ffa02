import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

const dir = new URL('../../src/rpc/', import.meta.url);

test('src/rpc/ knows nothing of HTTP: no import from the error catalogue or fastify', () => {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 5, files.join());
  for (const file of files) {
    const text = readFileSync(new URL(file, dir), 'utf8');
    const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+['"]([^'"]+)['"]/gms), ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
    for (const spec of specifiers) {
      assert.doesNotMatch(spec, /(^|\/)errors\.js$|^fastify|^@fastify\/|rpc-to-http/, `${file} imports ${spec}`);
    }
  }
});
