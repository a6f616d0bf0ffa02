import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { fakeArscan, fakeImage3d, fakeKeypoint, ok } from './helpers/fake-backends.js';
import { fixture } from './helpers/fixtures.js';
import { startServerProcess } from './helpers/server-process.js';
import { accepted, okRender, waitForStatus } from './helpers/jobs.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
  events?: Array<{ name: string }>;
  links?: Array<{ traceId: string; spanId: string }>;
}

/** A real OTLP/HTTP receiver (JSON encoding): every span exported to it, and the service names. */
async function otlpReceiver() {
  const spans: OtlpSpan[] = [];
  const services = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as {
          resourceSpans: Array<{ resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
        };
        for (const rs of body.resourceSpans) {
          services.add(rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '');
          for (const ss of rs.scopeSpans) spans.push(...ss.spans);
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, services, close: () => new Promise((r) => server.close(r)) };
}

const attr = (span: OtlpSpan, key: string) => {
  const v = span.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue === undefined ? undefined : Number(v.intValue));
};

test('traces: a server span under the incoming traceparent, a client span per backend call whose traceparent the backend receives, ids in the log', async (t) => {
  const receiver = await otlpReceiver();
  t.after(() => receiver.close());
  const backend = await fakeKeypoint(() => ok());
  const unused = await Promise.all([fakeImage3d(() => okRender(1)), fakeArscan(() => ok() as never)]);
  t.after(() => Promise.all([backend, ...unused].map((b) => b.close())));
  const { child, url, output } = await startServerProcess({
    KEYPOINT_BACKENDS: backend.address,
    IMAGE3D_BACKENDS: unused[0].address,
    ARSCAN_BACKENDS: unused[1].address,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'visiongate-test',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });
  t.after(() => child.kill('SIGKILL'));

  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const parent = '00f067aa0ba902b7';
  const res = await fetch(`${url}/v1/keypoints`, {
    method: 'POST',
    headers: { 'content-type': 'image/png', traceparent: `00-${traceId}-${parent}-01`, 'x-tt-logid': 'traced-request-1' },
    body: fixture('coffee.png'),
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();

  let server: OtlpSpan | undefined;
  let client: OtlpSpan | undefined;
  for (let i = 0; i < 100 && !(server && client); i++) {
    await sleep(100);
    server = receiver.spans.find((s) => s.traceId === traceId && s.kind === 2);
    client = receiver.spans.find((s) => s.traceId === traceId && s.kind === 3);
  }
  assert.ok(server, `a server span in the incoming trace: ${JSON.stringify(receiver.spans.map((s) => [s.name, s.kind]))}`);
  assert.ok(client, 'a client span for the backend call');
  assert.deepEqual([...receiver.services], ['visiongate-test']);

  // The incoming traceparent is the server span's parent.
  assert.equal(server.parentSpanId, parent);
  assert.equal(attr(server, 'visiongate.logid'), 'traced-request-1');
  assert.equal(attr(server, 'visiongate.partner'), 'anonymous');
  assert.equal(attr(server, 'http.route'), '/v1/keypoints');
  assert.ok(server.events?.some((e) => e.name === 'stage rpc'), 'the stages are events of the server span');

  // The client span hangs under the server span (through @fastify/otel's handler span).
  const byId = new Map(receiver.spans.map((s) => [s.spanId, s]));
  let up = client.parentSpanId;
  while (up && up !== server.spanId) up = byId.get(up)?.parentSpanId;
  assert.equal(up, server.spanId, 'the client span descends from the server span');
  assert.equal(attr(client, 'rpc.service'), 'keypoint');
  assert.equal(attr(client, 'rpc.method'), 'Detect');
  assert.equal(attr(client, 'visiongate.outcome'), 'ok');
  assert.equal(attr(client, 'visiongate.instance'), backend.address);

  // The backend got the client span as its parent.
  assert.deepEqual(backend.requests[0]!.Base!.Extra, { traceparent: `00-${traceId}-${client.spanId}-01` });

  // Every log line of the request carries the trace's ids.
  const lines = output().split('\n').filter((l) => l.includes('"logid":"traced-request-1"'));
  assert.ok(lines.length > 0);
  for (const line of lines) assert.match(line, new RegExp(`"trace_id":"${traceId}".*"span_id":"[0-9a-f]{16}"|"span_id":"[0-9a-f]{16}".*"trace_id":"${traceId}"`));

  // A job's run is a span of its own, linked to the request that submitted it, and its
  // backend call is a child of the run.
  const submitted = await fetch(`${url}/v1/image3d/videos`, {
    method: 'POST',
    headers: { 'content-type': 'image/png', prefer: 'respond-async', traceparent: `00-${traceId}-${parent}-01` },
    body: fixture('coffee.png'),
  });
  const { id } = await accepted(submitted);
  await waitForStatus(url, id, ['succeeded']);
  let run: OtlpSpan | undefined;
  let call: OtlpSpan | undefined;
  for (let i = 0; i < 100 && !(run && call); i++) {
    await sleep(100);
    run = receiver.spans.find((s) => s.name === 'job image3d');
    call = run && receiver.spans.find((s) => s.parentSpanId === run!.spanId && s.kind === 3);
  }
  assert.ok(run && call, 'a job run span with its backend call under it');
  const submitSpan = byIdNow(receiver.spans).get(run.links![0]!.spanId);
  assert.equal(run.links![0]!.traceId, traceId, 'the run links to the submitting request\'s trace');
  assert.ok(submitSpan, 'the linked span is one of the submitting request\'s spans');
  assert.equal(attr(run, 'visiongate.job'), id);
  assert.equal(attr(call, 'rpc.service'), 'image3d');
});

const byIdNow = (spans: OtlpSpan[]) => new Map(spans.map((s) => [s.spanId, s]));

test('traces are off without an OTLP endpoint: the incoming traceparent is forwarded as it came', async (t) => {
  const backend = await fakeKeypoint(() => ok());
  const unused = await Promise.all([fakeImage3d(() => ok() as never), fakeArscan(() => ok() as never)]);
  t.after(() => Promise.all([backend, ...unused].map((b) => b.close())));
  const { child, url, output } = await startServerProcess({ KEYPOINT_BACKENDS: backend.address, IMAGE3D_BACKENDS: unused[0].address, ARSCAN_BACKENDS: unused[1].address });
  t.after(() => child.kill('SIGKILL'));
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const res = await fetch(`${url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png', traceparent }, body: fixture('coffee.png') });
  assert.equal(res.status, 200);
  assert.deepEqual(backend.requests[0]!.Base!.Extra, { traceparent });
  assert.doesNotMatch(output(), /trace_id/);
});
