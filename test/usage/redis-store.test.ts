import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fakeKeypoint, ok } from '../helpers/fake-backends.js';
import { startGateway } from '../helpers/gateway.js';
import { startRedis } from '../helpers/services.js';
import { requireTool } from '../helpers/tools.js';
import { ACME, API_KEYS, BETA, eventually, expected, exported, keypoints, today, usageOf } from '../helpers/usage.js';

test('usage through two replicas sharing Redis: every figure of a known mix from two partners', { skip: requireTool('redis-server', 'redis-server') }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const backend = await fakeKeypoint(() => ok());
  t.after(() => backend.close());
  const env = { KEYPOINT_BACKENDS: backend.address, API_KEYS, REDIS_URL: redis.url, USAGE_FLUSH_MS: '200' };
  const one = await startGateway(env);
  const two = await startGateway(env);
  t.after(() => Promise.all([one.close(), two.close()]));

  const acme = [await keypoints(one, ACME), await keypoints(two, ACME), await keypoints(two, ACME, '?bogus=1'), await keypoints(one, ACME)];
  const beta = [await keypoints(two, BETA), await keypoints(two, BETA), await keypoints(one, BETA)];
  // Each replica answers with both replicas' counts.
  await eventually(() => usageOf(one, ACME), expected(acme));
  await eventually(() => usageOf(two, BETA), expected(beta));
  await eventually(() => usageOf(one, BETA), expected(beta));

  // The operator's export holds the same figures, one row per partner, day and route.
  const csv = (await exported({ REDIS_URL: redis.url }, 'csv')).trim().split('\n');
  assert.equal(csv[0], 'date,partner,route,requests,succeeded,client_errors,server_errors,bytes_in,bytes_out,images,backend_ms,jobs');
  const row = (partner: string) => csv.find((line) => line.startsWith(`${today()},${partner},/v1/keypoints,`))!.split(',');
  for (const [partner, sent] of [['acme', acme], ['beta', beta]] as const) {
    const want = expected(sent);
    const [, , , requests, succeeded, clientErrors, serverErrors, bytesIn, bytesOut, images, , jobs] = row(partner).map(Number);
    assert.deepEqual(
      { requests, succeeded, client_errors: clientErrors, server_errors: serverErrors, bytes_in: bytesIn, bytes_out: bytesOut, images, jobs },
      want,
    );
  }
  assert.equal(csv.length, 3);
});
