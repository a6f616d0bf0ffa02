import assert from 'node:assert/strict';
import { test } from 'node:test';
import image3d from '../../gen/thrift/image3d_types.js';
import { closedPort, fakeImage3d, fakeKeypoint, ok, status } from '../helpers/fake-backends.js';
import { Liveness, Readiness } from '../../src/schemas/health.js';
import { expectAnswer, expectProblem, startGateway } from '../helpers/gateway.js';

test('/healthz answers while the process serves', async (t) => {
  const gw = await startGateway({ KEYPOINT_BACKENDS: `127.0.0.1:${await closedPort()}` });
  t.after(() => gw.close());
  const res = await fetch(`${gw.url}/healthz`);
  assert.deepEqual(await expectAnswer(res, Liveness), { status: 'ok' });
});

/** A 503 NOT_READY: the problem, with the readiness members beside it. */
const NotReady = Readiness.omit({ status: true });

test('/readyz is 200 ready when every backend has a reachable instance, with the routes each serves and the state of each instance', async (t) => {
  const be = await fakeKeypoint(() => ok());
  t.after(() => be.close());
  const be3d = await fakeImage3d(() => new image3d.RenderResponse());
  t.after(() => be3d.close());
  const down = await closedPort();
  // Readiness only connects: any listening Thrift server stands in for arscan here.
  const gw = await startGateway({ KEYPOINT_BACKENDS: `${be.address},127.0.0.1:${down}`, IMAGE3D_BACKENDS: be3d.address, ARSCAN_BACKENDS: be3d.address });
  t.after(() => gw.close());
  const res = await fetch(`${gw.url}/readyz`);
  const body = await expectAnswer(res, Readiness);
  assert.equal(body.status, 'ready');
  assert.deepEqual(body.routes, { 'POST /v1/keypoints': 'up', 'POST /v1/image3d/videos': 'up', 'POST /v1/arscan/models': 'up' });
  assert.deepEqual(body.backends.arscan!.routes, ['POST /v1/arscan/models']);
  assert.equal(body.backends.keypoint!.state, 'up');
  assert.equal(body.backends.keypoint!.reference, undefined);
  assert.deepEqual(body.backends.image3d!.instances.map((i) => i.state), ['up']);
  assert.deepEqual(
    body.backends.keypoint!.instances.map((i) => [i.address, i.state]),
    [
      [be.address, 'up'],
      [`127.0.0.1:${down}`, 'ejected'],
    ],
  );
});

test('a replica whose keypoint backend is down stays ready (degraded) for the routes it can serve; ?strict says 503', async (t) => {
  const be3d = await fakeImage3d(() => new image3d.RenderResponse());
  t.after(() => be3d.close());
  const gw = await startGateway({ KEYPOINT_BACKENDS: `127.0.0.1:${await closedPort()}`, IMAGE3D_BACKENDS: be3d.address, ARSCAN_BACKENDS: be3d.address });
  t.after(() => gw.close());
  const res = await fetch(`${gw.url}/readyz`);
  const body = await expectAnswer(res, Readiness);
  assert.equal(body.status, 'degraded');
  assert.deepEqual(body.routes, { 'POST /v1/keypoints': 'down', 'POST /v1/image3d/videos': 'up', 'POST /v1/arscan/models': 'up' });
  assert.equal(body.backends.keypoint!.state, 'down');
  assert.match(body.backends.keypoint!.instances[0]!.error!, /ECONNREFUSED/);

  const strict = await fetch(`${gw.url}/readyz?strict`);
  assert.equal(strict.headers.get('retry-after'), '1');
  const problem = await expectProblem(strict.clone(), 503, 'NOT_READY');
  assert.match(problem.message, /of: keypoint\.$/);
  assert.equal(NotReady.parse(await strict.json()).routes['POST /v1/keypoints'], 'down');
});

test('/readyz is 503 NOT_READY, as problem+json, when no route can be served (backends down or not configured)', async (t) => {
  const gw = await startGateway({ KEYPOINT_BACKENDS: `127.0.0.1:${await closedPort()}` });
  t.after(() => gw.close());
  const res = await fetch(`${gw.url}/readyz`);
  const problem = await expectProblem(res.clone(), 503, 'NOT_READY');
  assert.match(problem.message, /keypoint, image3d, arscan/);
  assert.deepEqual(Object.values(NotReady.parse(await res.json()).routes), ['down', 'down', 'down']);
});

test('/metrics is Prometheus text with the request and backend call series', async (t) => {
  const be = await fakeKeypoint(() => ok());
  t.after(() => be.close());
  const gw = await startGateway({ KEYPOINT_BACKENDS: be.address });
  t.after(() => gw.close());
  await fetch(`${gw.url}/v1/keypoints`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: Buffer.from('89504e470d0a1a0a0000000d4948445200000040000000400806000000', 'hex'),
  });
  const res = await fetch(`${gw.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/plain/);
  const text = await res.text();
  assert.match(text, /visiongate_http_requests_total\{method="POST",route="\/v1\/keypoints",status="200",partner="anonymous"\} 1/);
  assert.match(text, /visiongate_backend_call_duration_seconds_count\{backend="keypoint",method="Detect",instance="127\.0\.0\.1:\d+",outcome="ok"\} 1/);
  assert.match(text, /process_cpu_user_seconds_total/);
  for (const stage of ['receive', 'decode', 'validate', 'rpc', 'encode']) {
    assert.match(text, new RegExp(`visiongate_request_stage_seconds_count\\{route="/v1/keypoints",stage="${stage}"\\} 1`));
  }
  assert.match(text, /visiongate_http_request_bytes_total\{route="\/v1\/keypoints",partner="anonymous"\} 29/);
  assert.match(text, /visiongate_http_response_bytes_total\{route="\/v1\/keypoints",partner="anonymous"\} [1-9]\d*/);
  assert.match(text, /visiongate_backend_calls_in_flight\{backend="keypoint",instance="127\.0\.0\.1:\d+"\} 0/);
});

test('/metrics counts backend failures by kind: the status a backend answered, a refused connection', async (t) => {
  const be = await fakeKeypoint(() => status(1002));
  t.after(() => be.close());
  const down = await closedPort();
  const gw = await startGateway({ KEYPOINT_BACKENDS: be.address, IMAGE3D_BACKENDS: `127.0.0.1:${down}` });
  t.after(() => gw.close());
  const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000040000000400806000000', 'hex');
  assert.equal((await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png })).status, 422);
  assert.equal((await fetch(`${gw.url}/v1/image3d/videos`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png })).status, 503);
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  assert.match(text, /visiongate_backend_errors_total\{backend="keypoint",instance="127\.0\.0\.1:\d+",kind="status_1002"\} 1/);
  assert.match(text, /visiongate_backend_errors_total\{backend="image3d",instance="127\.0\.0\.1:\d+",kind="refused"\} 1/);
  // The call's outcome is the catalogue code the failure was answered with.
  assert.match(text, /visiongate_backend_call_duration_seconds_count\{backend="keypoint",method="Detect",instance="127\.0\.0\.1:\d+",outcome="IMAGE_UNDECODABLE"\} 1/);
  assert.match(text, /visiongate_backend_call_duration_seconds_count\{backend="image3d",method="Render",instance="127\.0\.0\.1:\d+",outcome="BACKEND_UNAVAILABLE"\} 1/);
});
