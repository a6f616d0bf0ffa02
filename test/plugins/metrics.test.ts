import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closedPort, fakeKeypoint, ok, status } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import { startGateway } from '../helpers/gateway.js';
import { chunkedBody } from '../helpers/raw-http.js';

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

test('visiongate_http_request_bytes_total counts a chunked upload (no Content-Length) by the bytes sent, not 0', async (t) => {
  const be = await fakeKeypoint(() => ok());
  t.after(() => be.close());
  const gw = await startGateway({ KEYPOINT_BACKENDS: be.address });
  t.after(() => gw.close());
  const coffee = fixture('coffee.png');
  const res = await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, ...chunkedBody(coffee) });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  assert.match(text, new RegExp(`visiongate_http_request_bytes_total\\{route="/v1/keypoints",partner="anonymous"\\} ${coffee.length}\\n`));
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

test('METRICS_PORT serves /metrics on a port of its own, and not on the public one', async () => {
  const free = await closedPort();
  const gw = await startGateway({ METRICS_PORT: String(free) });
  try {
    assert.equal((await fetch(`${gw.url}/metrics`)).status, 404);
    const res = await fetch(`http://127.0.0.1:${free}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /process_cpu_seconds_total/);
  } finally {
    await gw.close();
  }
});
