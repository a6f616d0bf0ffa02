import assert from 'node:assert/strict';
import { test } from 'node:test';
import image3d from '../../gen/thrift/image3d_types.js';
import { closedPort, fakeImage3d, fakeKeypoint, ok } from '../helpers/fake-backends.js';
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
