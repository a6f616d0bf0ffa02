import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const testDir = fileURLToPath(new URL('..', import.meta.url));

// The serializer is JSON.stringify: nothing but the tests checks an answer against the OpenAPI
// document. An answer cast to a type the test writes itself would pass whatever it holds.
test('no test casts an answer\'s JSON to a type of its own: answers are parsed with their schemas (expectAnswer, problemOf)', () => {
  const files = readdirSync(testDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const casts = files.flatMap((file) =>
    readFileSync(new URL(file, new URL('..', import.meta.url)), 'utf8')
      .split('\n')
      .flatMap((line, i) => (/\.json\(\)\)?\s*as\s/.test(line) ? [`test/${file}:${i + 1}: ${line.trim()}`] : [])),
  );
  assert.deepEqual(casts, []);
});
