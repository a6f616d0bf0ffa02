import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Job } from '../../src/schemas/jobs.js';
import { fakeKeypoint, ok } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import { chunkedBody } from '../helpers/raw-http.js';
import { expectAnswer, startGateway } from '../helpers/gateway.js';
import { gatedImage3d, waitForStatus } from '../helpers/jobs.js';
import { ACME, API_KEYS, BETA, expected, keypoints, usageOf, withoutBackendMs, type Sent } from '../helpers/usage.js';

const coffee = fixture('coffee.png');

test('usage counts what each partner was served, and a partner sees only its own', async (t) => {
  const backend = await fakeKeypoint(() => ok());
  t.after(() => backend.close());
  const gw = await startGateway({ KEYPOINT_BACKENDS: backend.address, API_KEYS });
  t.after(() => gw.close());

  const acme = [await keypoints(gw, ACME), await keypoints(gw, ACME), await keypoints(gw, ACME), await keypoints(gw, ACME, '?max_faces=99')];
  const beta = [await keypoints(gw, BETA), await keypoints(gw, BETA)];
  assert.deepEqual(acme.map((s) => s.status), [200, 200, 200, 400]);

  const mine = await usageOf(gw, ACME);
  assert.equal(mine.partner, 'acme');
  assert.deepEqual(Object.keys(mine.days[0]!.routes), ['/v1/keypoints'], 'reading usage is not itself counted');
  assert.deepEqual(withoutBackendMs(mine.days[0]!.routes['/v1/keypoints']), expected(acme));
  assert.ok(mine.days[0]!.routes['/v1/keypoints']!.backend_ms >= 0);
  assert.deepEqual(withoutBackendMs((await usageOf(gw, BETA)).days[0]!.routes['/v1/keypoints']), expected(beta));
});

test('usage: a chunked upload (no Content-Length) counts the bytes sent, not 0', async (t) => {
  const backend = await fakeKeypoint(() => ok());
  t.after(() => backend.close());
  const gw = await startGateway({ KEYPOINT_BACKENDS: backend.address, API_KEYS });
  t.after(() => gw.close());
  const json = Buffer.from(JSON.stringify({ image: coffee.toString('base64') }));
  const sent: Sent[] = [];
  for (const [type, body] of [['image/png', coffee], ['application/json', json]] as const) {
    const res = await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': type, 'x-api-key': ACME }, ...chunkedBody(body) });
    sent.push({ status: res.status, bytesIn: body.length, bytesOut: (await res.arrayBuffer()).byteLength });
  }
  assert.deepEqual(sent.map((s) => s.status), [200, 200]);
  assert.deepEqual(withoutBackendMs((await usageOf(gw, ACME)).days[0]!.routes['/v1/keypoints']), expected(sent));
});

test('usage: a job\'s backend time and images count for the partner that submitted it, on its route, though it ran after the request', async (t) => {
  const backend = await gatedImage3d();
  t.after(() => backend.close());
  const gw = await startGateway({ IMAGE3D_BACKENDS: backend.address, API_KEYS, JOB_STORE_DIR: mkdtempSync(join(tmpdir(), 'vg-usage-jobs-')) });
  t.after(() => gw.close());
  const res = await fetch(`${gw.url}/v1/image3d/videos`, { method: 'POST', headers: { 'content-type': 'image/png', 'x-api-key': ACME, prefer: 'respond-async' }, body: coffee });
  const job = await expectAnswer(res, Job, 202);
  // The call is held at the backend for at least HELD_MS: the run's backend time is no less.
  const HELD_MS = 500;
  await backend.arrived(1);
  await sleep(HELD_MS);
  backend.release();
  await waitForStatus(gw.url, job.id, ['succeeded'], { 'x-api-key': ACME });
  const route = (await usageOf(gw, ACME)).days[0]!.routes['/v1/image3d/videos']!;
  assert.deepEqual({ requests: route.requests, succeeded: route.succeeded, jobs: route.jobs, images: route.images }, { requests: 1, succeeded: 1, jobs: 1, images: 1 });
  assert.ok(route.backend_ms >= HELD_MS, `backend_ms ${route.backend_ms} < ${HELD_MS}`);
  assert.deepEqual((await usageOf(gw, BETA)).days[0]!.routes, {}, 'another partner is not charged');
});
