import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import base from '../../gen/thrift/base_types.js';
import image3d from '../../gen/thrift/image3d_types.js';
import { hashKey } from '../../src/partners/api-keys.js';
import { fakeImage3d, rawBackend } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import { Image3dJsonAnswer } from '../../src/schemas/image3d.js';
import { Job as JobSchema, JobList } from '../../src/schemas/jobs.js';
import { expectAnswer, expectProblem, startGateway, type TestGateway } from '../helpers/gateway.js';
import { accepted, DEPTH_PNG, gatedImage3d, okRender, videoOf, waitForStatus, type GatedImage3d, type Job } from '../helpers/jobs.js';
import { until } from '../helpers/until.js';

const coffee = fixture('coffee.png');
const storeDir = () => mkdtempSync(join(tmpdir(), 'vg-jobs-'));

function submit(gw: TestGateway, opts: { prefer?: string; query?: string; key?: string; idempotencyKey?: string; body?: Buffer } = {}) {
  return fetch(`${gw.url}/v1/image3d/videos${opts.query ?? ''}`, {
    method: 'POST',
    headers: {
      'content-type': 'image/png',
      prefer: opts.prefer ?? 'respond-async',
      ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}),
      ...(opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {}),
    },
    body: opts.body ?? coffee,
  });
}

describe('jobs on the embedded store', () => {
  let be: GatedImage3d;
  let gw: TestGateway;
  let dir: string;
  before(async () => {
    be = await gatedImage3d((n) =>
      n === 3 ? new image3d.RenderResponse({ BaseResp: new base.BaseResp({ StatusCode: 1002, StatusMessage: 'secret backend words' }) }) : okRender(n),
    );
    dir = storeDir();
    gw = await startGateway({ IMAGE3D_BACKENDS: be.address, JOB_STORE_DIR: dir, JOB_EVENTS_KEEPALIVE_S: '1' });
  });
  after(async () => {
    await gw.close();
    await be.close();
  });

  test('Prefer: respond-async answers 202 at once with the job; the result is the synchronous answer', async () => {
    const res = await submit(gw);
    const job = await accepted(res);
    assert.match(job.id, /^job_[A-Za-z0-9_-]{22}$/); // 128 random bits
    assert.equal(res.headers.get('location'), `/v1/jobs/${job.id}`);
    assert.equal(res.headers.get('preference-applied'), 'respond-async');
    assert.equal(job.kind, 'image3d');
    assert.equal(job.logid, res.headers.get('x-tt-logid'));
    // Also what broke: a job started at once was answered "queued" with no place in the queue.
    assert.equal(job.status, 'running', 'the queue had room: the job started as it was enqueued');
    assert.ok(job.started_at);
    assert.equal(job.queue_position, null);
    assert.deepEqual(Object.keys(job).sort(), ['created_at', 'error', 'expires_at', 'finished_at', 'id', 'kind', 'logid', 'queue_position', 'result_url', 'started_at', 'status']);
    await be.arrived(1);
    const running = await fetch(`${gw.url}/v1/jobs/${job.id}`);
    assert.equal((await expectAnswer(running, JobSchema)).status, 'running');
    assert.ok(Number(running.headers.get('retry-after')) > 0);
    await expectProblem(await fetch(`${gw.url}/v1/jobs/${job.id}/result`), 409, 'JOB_NOT_FINISHED');
    // The backend call carries the submitting request's log id.
    assert.equal(be.requests[0]!.Base!.LogID, job.logid);
    be.release();
    const done = await waitForStatus(gw.url, job.id, ['succeeded']);
    assert.equal(done.result_url, `/v1/jobs/${job.id}/result`);
    assert.ok(done.started_at && done.finished_at && done.expires_at);
    assert.equal(Date.parse(done.expires_at) - Date.parse(done.finished_at), 86_400_000);
    const result = await fetch(`${gw.url}${done.result_url}`);
    assert.equal(result.status, 200);
    assert.equal(result.headers.get('content-type'), 'video/mp4');
    assert.equal(result.headers.get('content-disposition'), `attachment; filename="${job.logid}.mp4"`);
    assert.deepEqual(Buffer.from(await result.arrayBuffer()), videoOf(1));
    const json = await fetch(`${gw.url}${done.result_url}`, { headers: { accept: 'application/json' } });
    assert.deepEqual(await expectAnswer(json, Image3dJsonAnswer), { logid: json.headers.get('x-tt-logid'), job_logid: job.logid, mime_type: 'video/mp4', frame_count: 1, video: videoOf(1).toString('base64'), depth_png: DEPTH_PNG.toString('base64') });
  });

  test('a bad request is its 4xx at once, never a job', async () => {
    const before = (await expectAnswer(await fetch(`${gw.url}/v1/jobs`), JobList)).jobs.length;
    await expectProblem(await submit(gw, { query: '?speed=9' }), 400, 'INVALID_ARGUMENT');
    await expectProblem(await submit(gw, { body: Buffer.from('GIF89a not really') }), 415, 'UNSUPPORTED_IMAGE_FORMAT');
    const after = (await expectAnswer(await fetch(`${gw.url}/v1/jobs`), JobList)).jobs.length;
    assert.equal(after, before);
  });

  test('wait=N: a job done within N seconds is answered as the synchronous route would; a slower one is a 202', async () => {
    const slow = submit(gw, { prefer: 'respond-async, wait=1' });
    const job = await accepted(await slow);
    await be.arrived(2);
    be.release();
    await waitForStatus(gw.url, job.id, ['succeeded']);
    be.release(); // the next call answers at once
    const fast = await submit(gw, { prefer: 'respond-async; foo=bar, wait=30' });
    // Call 3 fails (the backend's 1002): answered as the synchronous route fails.
    const problem = await expectProblem(fast, 422, 'IMAGE_UNDECODABLE');
    assert.doesNotMatch(problem.message, /secret/);
    // As the job's result would answer (docs/jobs.md): its job's log id beside the request's, here the same.
    assert.equal(problem.logid, fast.headers.get('x-tt-logid'));
    assert.equal(problem.job_logid, problem.logid);
  });

  test('a failed job keeps the synchronous route\'s problem; its result answers with it', async () => {
    const list = await expectAnswer(await fetch(`${gw.url}/v1/jobs?status=failed`), JobList);
    assert.equal(list.jobs.length, 1);
    const failed = list.jobs[0]!;
    assert.equal(failed.error!.code, 'IMAGE_UNDECODABLE');
    assert.equal(failed.error!.status, 422);
    assert.equal(failed.error!.logid, failed.logid);
    assert.equal(failed.result_url, null);
    // The job's problem, with this request's log id (see 'a failed job's result answers with the result request's log id').
    const problem = await expectProblem(await fetch(`${gw.url}/v1/jobs/${failed.id}/result`), 422, 'IMAGE_UNDECODABLE');
    assert.equal(problem.message, failed.error!.message);
  });

  test('cancel: a queued job never runs, a running one\'s backend call is abandoned; both answer 409 after', async () => {
    const calls = be.requests.length;
    const running = await accepted(await submit(gw));
    await be.arrived(calls + 1);
    const canceled = await fetch(`${gw.url}/v1/jobs/${running.id}/cancel`, { method: 'POST' });
    assert.equal(canceled.status, 202);
    assert.equal((await expectAnswer(canceled, JobSchema, 202)).status, 'canceled');
    await expectProblem(await fetch(`${gw.url}/v1/jobs/${running.id}/result`), 409, 'JOB_CANCELED');
    await expectProblem(await fetch(`${gw.url}/v1/jobs/${running.id}/cancel`, { method: 'POST' }), 409, 'JOB_ALREADY_FINISHED');
    be.release(); // the abandoned call's answer changes nothing
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await waitForStatus(gw.url, running.id, ['canceled'])).status, 'canceled');
  });

  test('DELETE: a finished job goes with its input and result; an unfinished one is 409', async () => {
    const job = await accepted(await submit(gw));
    await expectProblem(await fetch(`${gw.url}/v1/jobs/${job.id}`, { method: 'DELETE' }), 409, 'JOB_NOT_FINISHED');
    be.release();
    await waitForStatus(gw.url, job.id, ['succeeded']);
    assert.ok(existsSync(join(dir, 'blobs', job.id, 'result')));
    assert.ok(existsSync(join(dir, 'jobs', `${job.id}.json`)));
    assert.equal((await fetch(`${gw.url}/v1/jobs/${job.id}`, { method: 'DELETE' })).status, 204);
    await expectProblem(await fetch(`${gw.url}/v1/jobs/${job.id}`), 404, 'JOB_NOT_FOUND');
    assert.ok(!existsSync(join(dir, 'blobs', job.id)));
    assert.ok(!existsSync(join(dir, 'jobs', `${job.id}.json`)));
  });

  test('the list: newest first, a page at a time, by status', async () => {
    const all: Job[] = [];
    let cursor: string | null = null;
    do {
      const res = await fetch(`${gw.url}/v1/jobs?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      const page = await expectAnswer(res, JobList);
      assert.ok(page.jobs.length <= 2);
      all.push(...page.jobs);
      cursor = page.next_cursor;
    } while (cursor);
    assert.ok(all.length >= 4, `${all.length} jobs`);
    assert.equal(new Set(all.map((j) => j.id)).size, all.length);
    const times = all.map((j) => j.created_at);
    assert.deepEqual(times, [...times].sort().reverse());
    await expectProblem(await fetch(`${gw.url}/v1/jobs?limit=0`), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fetch(`${gw.url}/v1/jobs?status=done`), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fetch(`${gw.url}/v1/jobs?cursor=nonsense`), 400, 'INVALID_ARGUMENT');
  });

  test('the list: a query parameter given twice is refused as on the other routes (it was "status" must be one of ...)', async () => {
    const problem = await expectProblem(await fetch(`${gw.url}/v1/jobs?status=failed&status=failed`), 400, 'INVALID_ARGUMENT');
    assert.match(problem.message, /^Query parameter "status" is given more than once\.$/);
  });

  test('events: one status event per change, keep-alive comments, closed after the final state; resumed with Last-Event-ID', async () => {
    const job = await accepted(await submit(gw));
    const res = await fetch(`${gw.url}/v1/jobs/${job.id}/events`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.ok(res.headers.get('x-tt-logid'));
    const text = (async () => {
      let out = '';
      for await (const chunk of res.body!) out += Buffer.from(chunk).toString();
      return out;
    })();
    await until(async () => (await waitForStatus(gw.url, job.id, ['queued', 'running'])).status === 'running', 'running');
    await new Promise((r) => setTimeout(r, 1500)); // a keep-alive comment's interval (JOB_EVENTS_KEEPALIVE_S=1)
    be.release();
    const stream = await text; // ends: the stream is closed after the final state
    const events = stream.split('\n\n').filter((e) => e.startsWith('id:'));
    const parsed = events.map((e) => ({ id: Number(/^id: (\d+)$/m.exec(e)![1]), type: /^event: (.+)$/m.exec(e)![1], job: JobSchema.parse(JSON.parse(/^data: (.+)$/m.exec(e)![1]!)) }));
    assert.ok(parsed.every((e) => e.type === 'status'));
    assert.deepEqual(parsed.map((e) => e.job.status).slice(-2), ['running', 'succeeded']);
    assert.ok(parsed.every((e, i) => i === 0 || e.id > parsed[i - 1]!.id));
    assert.match(stream, /^: keep-alive$/m);
    // Resumed after the running event: only the final one comes.
    const resumed = await fetch(`${gw.url}/v1/jobs/${job.id}/events`, { headers: { 'last-event-id': String(parsed.at(-2)!.id) } });
    const rest = (await resumed.text()).split('\n\n').filter((e) => e.startsWith('id:'));
    assert.equal(rest.length, 1);
    assert.match(rest[0]!, /"status":"succeeded"/);
  });

  test('metrics: jobs by kind and state, queue depth and oldest age, run time', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(text, /^visiongate_jobs\{kind="image3d",state="succeeded"\} [1-9]/m);
    assert.match(text, /^visiongate_jobs_queue_depth\{kind="arscan"\} 0$/m);
    assert.match(text, /^visiongate_jobs_queue_oldest_age_seconds\{kind="image3d"\} /m);
    assert.match(text, /^visiongate_job_duration_seconds_count\{kind="image3d",state="succeeded"\} [1-9]/m);
    assert.match(text, /^# TYPE visiongate_webhook_deliveries_total counter$/m);
  });
});

describe('jobs belong to their partner, and a partner\'s share is bounded', () => {
  const KEYS = { acme: 'vg_acme-key-for-jobs', beta: 'vg_beta-key-for-jobs' };
  let be: GatedImage3d;
  let gw: TestGateway;
  before(async () => {
    be = await gatedImage3d();
    gw = await startGateway({
      IMAGE3D_BACKENDS: be.address,
      IMAGE3D_MAX_CONNECTIONS: '1',
      JOB_STORE_DIR: storeDir(),
      API_KEYS: `acme=${hashKey(KEYS.acme)},beta=${hashKey(KEYS.beta)}`,
      JOBS_MAX_QUEUED_PER_PARTNER: '3',
      JOBS_MAX_RUNNING_PER_PARTNER: '1',
    });
  });
  after(async () => {
    await gw.close();
    await be.close();
  });
  const auth = (key: string) => ({ authorization: `Bearer ${key}` });

  test('another partner\'s job is 404 JOB_NOT_FOUND everywhere, as an id that never existed', async () => {
    const job = await accepted(await submit(gw, { key: KEYS.acme }));
    for (const [method, path] of [['GET', ''], ['GET', '/result'], ['GET', '/events'], ['POST', '/cancel'], ['DELETE', '']] as const) {
      await expectProblem(await fetch(`${gw.url}/v1/jobs/${job.id}${path}`, { method, headers: auth(KEYS.beta) }), 404, 'JOB_NOT_FOUND');
      await expectProblem(await fetch(`${gw.url}/v1/jobs/job_AAAAAAAAAAAAAAAAAAAAAA${path}`, { method, headers: auth(KEYS.acme) }), 404, 'JOB_NOT_FOUND');
    }
    const theirs = await expectAnswer(await fetch(`${gw.url}/v1/jobs`, { headers: auth(KEYS.beta) }), JobList);
    assert.equal(theirs.jobs.length, 0);
    await expectProblem(await fetch(`${gw.url}/v1/jobs`), 401, 'UNAUTHENTICATED');
    await be.arrived(1);
    be.release();
    await waitForStatus(gw.url, job.id, ['succeeded'], auth(KEYS.acme));
  });

  test('one partner\'s burst does not starve another; past its queued cap it gets 429 TOO_MANY_JOBS', async () => {
    const calls = be.requests.length;
    const burst: Job[] = [];
    for (let i = 0; i < 4; i++) burst.push(await accepted(await submit(gw, { key: KEYS.acme })));
    assert.deepEqual(burst.map((j) => [j.status, j.queue_position]), [['running', null], ['queued', 1], ['queued', 2], ['queued', 3]]);
    // One running, three queued: the cap.
    await be.arrived(calls + 1);
    const refused = await submit(gw, { key: KEYS.acme });
    await expectProblem(refused, 429, 'TOO_MANY_JOBS');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    const other = await accepted(await submit(gw, { key: KEYS.beta }));
    assert.equal(other.queue_position, 4);
    be.release();
    // The next call is beta's, ahead of acme's three that came first.
    await be.arrived(calls + 2);
    assert.equal(be.requests[calls + 1]!.Base!.Client, 'beta');
    be.release(4);
    await waitForStatus(gw.url, other.id, ['succeeded'], auth(KEYS.beta));
    for (const job of burst) await waitForStatus(gw.url, job.id, ['succeeded'], auth(KEYS.acme));
  });

  test('Idempotency-Key: the same request gets the same job; another request with it 422; while the first is accepted, 409', async () => {
    const first = await accepted(await submit(gw, { key: KEYS.acme, idempotencyKey: 'order-1' }));
    const again = await accepted(await submit(gw, { key: KEYS.acme, idempotencyKey: 'order-1' }));
    assert.equal(again.id, first.id);
    await expectProblem(await submit(gw, { key: KEYS.acme, idempotencyKey: 'order-1', query: '?motion=swing' }), 422, 'IDEMPOTENCY_KEY_REUSED');
    // Keys are the partner's own: beta's "order-1" is another key.
    const beta = await accepted(await submit(gw, { key: KEYS.beta, idempotencyKey: 'order-1' }));
    assert.notEqual(beta.id, first.id);
    // A multipart upload held half-sent: its key is claimed until it is accepted.
    const boundary = 'vgboundary';
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="c.png"\r\nContent-Type: image/png\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    let sendRest!: () => void;
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(head);
        controller.enqueue(coffee.subarray(0, 1000));
        await new Promise<void>((resolve) => (sendRest = resolve));
        controller.enqueue(coffee.subarray(1000));
        controller.enqueue(tail);
        controller.close();
      },
    });
    const slow = fetch(`${gw.url}/v1/image3d/videos`, {
      method: 'POST',
      headers: { ...auth(KEYS.acme), prefer: 'respond-async', 'idempotency-key': 'order-2', 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    } as RequestInit);
    await until(async () => {
      const res = await submit(gw, { key: KEYS.acme, idempotencyKey: 'order-2' });
      if (res.status === 409) {
        await expectProblem(res, 409, 'IDEMPOTENCY_KEY_IN_USE');
        return true;
      }
      return false;
    }, 'the claimed key to answer 409');
    sendRest();
    const slowJob = await accepted(await slow);
    // The same photo, raw rather than multipart: the same request, so the same job.
    assert.equal((await accepted(await submit(gw, { key: KEYS.acme, idempotencyKey: 'order-2' }))).id, slowJob.id);
    be.release(10);
  });
});

test('cancel reaches the backend: the running call\'s connection is closed at once, long before its deadline', async () => {
  // A backend that reads the call and never answers.
  const be = await rawBackend(() => {});
  const gw = await startGateway({ IMAGE3D_BACKENDS: be.address, IMAGE3D_TIMEOUT_MS: '600000', JOB_STORE_DIR: storeDir() });
  try {
    const job = await accepted(await submit(gw));
    await until(() => be.frames === 1, 'the call to reach the backend');
    assert.equal(be.closes, 0);
    assert.equal((await fetch(`${gw.url}/v1/jobs/${job.id}/cancel`, { method: 'POST' })).status, 202);
    await until(() => be.closes === 1, 'the backend connection to be closed');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /^visiongate_backend_calls_in_flight\{backend="image3d",instance="[^"]+"\} 0$/m);
    // Abandoned on purpose: the instance is not ejected for it.
    assert.doesNotMatch(metrics, /^visiongate_backend_ejections_total\{backend="image3d"/m);
    assert.equal((await waitForStatus(gw.url, job.id, ['canceled'])).status, 'canceled');
  } finally {
    await gw.close();
    await be.close();
  }
});

test('a failed job\'s result answers with the result request\'s log id; the job\'s own log id stays in job_logid and on the job', async () => {
  const be = await fakeImage3d(() => new image3d.RenderResponse({ BaseResp: new base.BaseResp({ StatusCode: 1002, StatusMessage: 'secret backend words' }) }));
  const gw = await startGateway({ IMAGE3D_BACKENDS: be.address, JOB_STORE_DIR: storeDir() });
  try {
    const job = await accepted(await submit(gw));
    const failed = await waitForStatus(gw.url, job.id, ['failed']);
    // The result was answered with the submitting request's log id in its body, not the header's.
    const res = await fetch(`${gw.url}/v1/jobs/${job.id}/result`, { headers: { 'x-tt-logid': 'result-request-1' } });
    const problem = await expectProblem(res, 422, 'IMAGE_UNDECODABLE'); // its logid is its header's
    assert.equal(problem.logid, 'result-request-1');
    assert.equal(problem.job_logid, job.logid);
    // Otherwise the job's problem as it was.
    const { logid: _mine, job_logid: _job, ...rest } = problem;
    const { logid: _submitted, ...kept } = failed.error!;
    assert.deepEqual(rest, kept);
    // Each log id lands on a log line of its own request: the result request's, and the job's run.
    assert.ok(gw.logs.some((line) => line.logid === problem.logid && line.url === `/v1/jobs/${job.id}/result`), 'a log line of the result request');
    assert.ok(gw.logs.some((line) => line.logid === problem.job_logid && line.msg === 'job failed'), 'the job\'s failure log line');
    // The job itself keeps the submitting request's log id, in its problem too.
    assert.equal(failed.logid, job.logid);
    assert.equal(failed.error!.logid, job.logid);
  } finally {
    await gw.close();
    await be.close();
  }
});

test('a succeeded job\'s JSON result answers with the result request\'s log id; the job\'s own log id stays in job_logid and names the download', async () => {
  const be = await fakeImage3d(() => okRender(1));
  const gw = await startGateway({ IMAGE3D_BACKENDS: be.address, JOB_STORE_DIR: storeDir() });
  try {
    const job = await accepted(await submit(gw));
    await waitForStatus(gw.url, job.id, ['succeeded']);
    // The JSON form carried the submitting request's log id, not the header's.
    const res = await fetch(`${gw.url}/v1/jobs/${job.id}/result`, { headers: { accept: 'application/json', 'x-tt-logid': 'result-request-2' } });
    const answer = await expectAnswer(res, Image3dJsonAnswer);
    assert.equal(res.headers.get('x-tt-logid'), 'result-request-2');
    assert.equal(answer.logid, 'result-request-2');
    assert.equal(answer.job_logid, job.logid);
    const download = await fetch(`${gw.url}/v1/jobs/${job.id}/result`);
    assert.equal(download.headers.get('content-disposition'), `attachment; filename="${job.logid}.mp4"`);
    // The synchronous route has no job: its answer has no job_logid.
    const sync = await fetch(`${gw.url}/v1/image3d/videos`, { method: 'POST', headers: { 'content-type': 'image/png', accept: 'application/json' }, body: coffee });
    const syncAnswer = await expectAnswer(sync, Image3dJsonAnswer);
    assert.equal(syncAnswer.logid, sync.headers.get('x-tt-logid'));
    assert.equal(syncAnswer.job_logid, undefined);
  } finally {
    await gw.close();
    await be.close();
  }
});
