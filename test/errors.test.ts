import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ApiError, CATALOGUE, ERROR_CODES, toProblem } from '../src/errors.js';

test('every code has a problem title for its status', () => {
  for (const code of ERROR_CODES) {
    const problem = toProblem(new ApiError(code), 'x');
    assert.notEqual(problem.title, 'Error', code);
    assert.equal(problem.status, CATALOGUE[code].status);
  }
});

test('docs/api.md documents every error code with its status', () => {
  const readme = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');
  for (const code of ERROR_CODES) {
    assert.match(readme, new RegExp(`\\| \`${code}\` \\| ${CATALOGUE[code].status}\\b`), code);
  }
});

test('the cause stays out of the problem body', () => {
  const problem = toProblem(new ApiError('BACKEND_ERROR', undefined, { cause: new Error('secret') }), 'x');
  assert.doesNotMatch(JSON.stringify(problem), /secret/);
});
