import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageAnswer } from '../../src/schemas/usage.js';
import { expectAnswer, expectProblem, startGateway } from '../helpers/gateway.js';
import { ACME, API_KEYS } from '../helpers/usage.js';

test('usage: a range must run forwards and span at most 366 days, and a range of centuries is refused at once', async (t) => {
  const gw = await startGateway({ API_KEYS });
  t.after(() => gw.close());
  const ask = (query: string) => fetch(`${gw.url}/v1/usage?${query}`, { headers: { 'x-api-key': ACME } });
  await expectProblem(await ask('from=2026-11-28&to=2026-11-27'), 400, 'INVALID_ARGUMENT');
  await expectProblem(await ask('from=0001-01-01&to=9999-12-31'), 400, 'INVALID_ARGUMENT');
  await expectProblem(await ask('from=2026-02-30'), 400, 'INVALID_ARGUMENT');
  await expectProblem(await ask('from=yesterday'), 400, 'INVALID_ARGUMENT');
  const year = await ask('from=2025-01-01&to=2025-12-31');
  assert.equal((await expectAnswer(year, UsageAnswer)).days.length, 365);
  await expectProblem(await fetch(`${gw.url}/v1/usage`), 401, 'UNAUTHENTICATED');
});

test('usage: a query parameter given twice is refused as on the other routes (it was "from" Invalid input: expected string, received array)', async (t) => {
  const gw = await startGateway({ API_KEYS });
  t.after(() => gw.close());
  const res = await fetch(`${gw.url}/v1/usage?from=2026-11-28&from=2026-11-28`, { headers: { 'x-api-key': ACME } });
  assert.match((await expectProblem(res, 400, 'INVALID_ARGUMENT')).message, /^Query parameter "from" is given more than once\.$/);
});
