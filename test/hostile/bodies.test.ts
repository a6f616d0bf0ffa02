// Issue 11's hostile request bodies, against the gateway in a process of its own (as `npm start`
// runs it), so that its memory and event loop are its own: each attack is built here, and each
// test checks the answer, the memory and the event-loop delay it cost, and that a normal
// request right after is served. Time bounds are the configured ones (shortened here) plus the
// machine's measured scheduling slack.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import arscan from '../../gen/thrift/arscan_types.js';
import base from '../../gen/thrift/base_types.js';
import { fakeArscan, fakeImage3d, fakeKeypoint, ok } from '../helpers/fake-backends.js';
import { Problem as ProblemSchema } from '../../src/schemas/problem.js';
import { fixture } from '../helpers/fixtures.js';
import { expectProblem, problemOf as problemOfAnswer } from '../helpers/gateway.js';
import { loopDelayMaxMs, schedulingSlackMs, watchRss } from '../helpers/process-stats.js';
import { chunked, RawRequest, sendAllThenRead, type RawAnswer } from '../helpers/raw-http.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const MiB = 1024 * 1024;
const INFLIGHT = 32 * MiB;
const RATE_WINDOW_MS = 3000;
const MIN_RATE = 4096;
const MAX_PAUSE_MS = 1500;
const BODY_TIMEOUT_MS = 15_000;
/** The guard samples progress every quarter of its shortest period. */
const TICK_MS = Math.min(MAX_PAUSE_MS, RATE_WINDOW_MS) / 4;

const coffee = fixture('coffee.png');
const problemOf = (answer: RawAnswer | undefined) => ProblemSchema.parse(JSON.parse(answer!.body));

describe('hostile request bodies cost bounded memory and time', () => {
  let gw: ServerProcess;
  let port: number;
  const closers: Array<() => Promise<void>> = [];
  before(async () => {
    const kp = await fakeKeypoint(() => ok());
    const i3 = await fakeImage3d(() => {
      throw new Error('not called');
    });
    const ar = await fakeArscan(() => new arscan.ReconstructResponse({ BaseResp: new base.BaseResp({ StatusCode: 1005, StatusMessage: 'no' }) }));
    closers.push(() => kp.close(), () => i3.close(), () => ar.close());
    gw = await startServerProcess({
      KEYPOINT_BACKENDS: kp.address,
      IMAGE3D_BACKENDS: i3.address,
      ARSCAN_BACKENDS: ar.address,
      DRAIN_DELAY_MS: '0',
      MAX_INFLIGHT_REQUEST_BYTES: String(INFLIGHT),
      BODY_RATE_WINDOW_MS: String(RATE_WINDOW_MS),
      BODY_MIN_BYTES_PER_SECOND: String(MIN_RATE),
      BODY_MAX_PAUSE_MS: String(MAX_PAUSE_MS),
      BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS),
      BODY_DRAIN_MS: '3000',
      KEEP_ALIVE_TIMEOUT_MS: '1000',
    });
    port = Number(new URL(gw.url).port);
  });
  after(async () => {
    gw.child.kill('SIGKILL');
    for (const close of closers) await close();
  });

  /** A normal request: the gateway is still serving. */
  const normalRequest = () => fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: coffee });
  const head = (path: string, type: string, framing: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\n${framing}\r\n\r\n`;

  test('row 1: bodies announcing 32 MiB between them, then a byte every 500 ms, are cut off with 408 after the rate window, and the budget they pinned frees', async () => {
    const slack = await schedulingSlackMs(gw.url);
    const rss = watchRss(gw.child.pid!);
    await loopDelayMaxMs(gw.url);
    const startedAt = performance.now();
    const dribblers = Array.from({ length: 4 }, () => new RawRequest(port, head('/v1/arscan/models', 'application/zip', `Content-Length: ${INFLIGHT / 4}`)));
    const timers = dribblers.map((d) => setInterval(() => void d.write('A'), 500));
    try {
      // While they hold the budget, a body of any size is shed.
      await new Promise((r) => setTimeout(r, 300));
      const shed = await normalRequest();
      await expectProblem(shed, 503, 'GATEWAY_OVERLOADED');
      const answers = await Promise.all(dribblers.map((d) => d.answer));
      const closedAt = await Promise.all(dribblers.map((d) => d.closed));
      for (const answer of answers) {
        assert.equal(answer?.status, 408, answer?.head);
        assert.match(answer!.head, /content-type: application\/problem\+json/i);
        assert.match(answer!.head, /connection: close/i);
        const problem = problemOf(answer);
        assert.equal(problem.code, 'REQUEST_TIMEOUT');
        assert.match(problem.message, /bytes\/s over the last/);
      }
      // Not before a whole window was seen, and not long after it.
      for (const at of closedAt) {
        assert.ok(at - startedAt >= RATE_WINDOW_MS, `cut off after ${(at - startedAt).toFixed(0)} ms`);
        assert.ok(at - startedAt < RATE_WINDOW_MS + TICK_MS + 1500 + 3 * slack, `cut off after ${(at - startedAt).toFixed(0)} ms (slack ${slack.toFixed(0)} ms)`);
      }
    } finally {
      for (const t of timers) clearInterval(t);
      for (const d of dribblers) d.close();
    }
    assert.equal((await normalRequest()).status, 200);
    rss.stop();
    assert.ok(rss.peak() - rss.baseline < 100, `RSS ${rss.baseline.toFixed(0)} → ${rss.peak().toFixed(0)} MiB`);
    assert.ok((await loopDelayMaxMs(gw.url)) < 200 + slack);
  });

  test('row 1: a body that stops is cut off after BODY_MAX_PAUSE_MS, and one that keeps coming past BODY_TIMEOUT_MS at a good rate is cut off then', async () => {
    const slack = await schedulingSlackMs(gw.url);
    const startedAt = performance.now();
    const stopped = new RawRequest(port, head('/v1/keypoints', 'image/png', `Content-Length: ${MiB}`));
    await stopped.write(Buffer.alloc(1000, 0x41));
    const steady = new RawRequest(port, head('/v1/arscan/models', 'application/zip', `Content-Length: ${16 * MiB}`));
    // 64 KiB every 250 ms is 256 KiB/s, far above the minimum rate: 16 MiB would take 64 s.
    const timer = setInterval(() => void steady.write(Buffer.alloc(64 * 1024, 0x41)), 250);
    try {
      const pause = problemOf(await stopped.answer);
      assert.equal(pause.code, 'REQUEST_TIMEOUT');
      assert.match(pause.message, /No byte of the body arrived for/);
      const pausedFor = (await stopped.closed) - startedAt;
      assert.ok(pausedFor >= MAX_PAUSE_MS && pausedFor < MAX_PAUSE_MS + TICK_MS + 1500 + 3 * slack, `cut off after ${pausedFor.toFixed(0)} ms`);
      const deadline = problemOf(await steady.answer);
      assert.equal(deadline.code, 'REQUEST_TIMEOUT');
      assert.match(deadline.message, /not whole after 15 s \(BODY_TIMEOUT_MS\)/);
      const tookFor = (await steady.closed) - startedAt;
      assert.ok(tookFor >= BODY_TIMEOUT_MS && tookFor < BODY_TIMEOUT_MS + TICK_MS + 1500 + 3 * slack, `cut off after ${tookFor.toFixed(0)} ms`);
    } finally {
      clearInterval(timer);
      stopped.close();
      steady.close();
    }
    assert.equal((await normalRequest()).status, 200);
  });

  test('an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT_MS', async () => {
    const slack = await schedulingSlackMs(gw.url);
    const idle = new RawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal((await idle.answer)?.status, 200);
    const answeredAt = performance.now();
    const idleFor = (await idle.closed) - answeredAt;
    assert.ok(idleFor >= 900 && idleFor < 1000 + 1500 + 3 * slack, `closed after ${idleFor.toFixed(0)} ms idle`);
  });

  test('row 2: four chunked 250 MB bodies at once are held to MAX_INFLIGHT_REQUEST_BYTES as they arrive: 503 each, memory bounded', async () => {
    const slack = await schedulingSlackMs(gw.url);
    const rss = watchRss(gw.child.pid!);
    await loopDelayMaxMs(gw.url);
    const prefix = Buffer.from('{"archive":"');
    const uploads = Array.from({ length: 4 }, () => new RawRequest(port, head('/v1/arscan/models', 'application/json', 'Transfer-Encoding: chunked')));
    const chunk = Buffer.alloc(MiB, 0x41);
    const sent = await Promise.all(uploads.map(async (u) => (await u.write(chunked(prefix)[0]!), await u.write(prefix), await u.write('\r\n'), u.stream(250 * MiB, chunk, chunked))));
    const answers = await Promise.all(uploads.map((u) => u.answer));
    for (const u of uploads) u.close();
    rss.stop();
    const delay = await loopDelayMaxMs(gw.url);
    for (const answer of answers) {
      assert.equal(answer?.status, 503, `${answer?.head} ${answer?.body} ${sent.map((b) => (b / MiB).toFixed(0)).join()}`);
      assert.equal(problemOf(answer).code, 'GATEWAY_OVERLOADED');
    }
    // Each was refused once it could not have more of the budget (which the others give back as
    // they are refused), not after its 250 MB; what the gateway held at once shows in its memory.
    for (const bytes of sent) assert.ok(bytes < INFLIGHT + 16 * MiB, `${(bytes / MiB).toFixed(0)} MiB were written before the refusal`);
    assert.ok(rss.peak() - rss.baseline < INFLIGHT / MiB + 100, `RSS ${rss.baseline.toFixed(0)} → ${rss.peak().toFixed(0)} MiB`);
    // Once seconds, with 2.9 GB held: what remains is reading and collecting tens of MiB of chunks.
    assert.ok(delay < 1000 + 2 * slack, `event loop held ${delay.toFixed(0)} ms`);
    assert.equal((await normalRequest()).status, 200);
  });

  test('row 2: a chunked body past the route limit gets its 413 as soon as it passes it', async () => {
    const rss = watchRss(gw.child.pid!);
    // keypoints takes JSON up to 20 MiB (a 15 MiB image in base64).
    const upload = new RawRequest(port, head('/v1/keypoints', 'application/json', 'Transfer-Encoding: chunked'));
    const sent = await upload.stream(200 * MiB, Buffer.alloc(MiB, 0x20), chunked);
    const answer = await upload.answer;
    upload.close();
    rss.stop();
    assert.equal(answer?.status, 413, answer?.head);
    const problem = problemOf(answer);
    assert.equal(problem.code, 'PAYLOAD_TOO_LARGE');
    assert.match(problem.message, /The application\/json body is larger than the 20\.06 MiB this route accepts/);
    assert.ok(sent < 60 * MiB, `${(sent / MiB).toFixed(0)} MiB were written before the 413`);
    assert.ok(rss.peak() - rss.baseline < 100, `RSS ${rss.baseline.toFixed(0)} → ${rss.peak().toFixed(0)} MiB`);
    assert.equal((await normalRequest()).status, 200);
  });

  test('row 13: an 80 MB body from a client that sends everything before reading gets its 413, in MiB', async () => {
    const rss = watchRss(gw.child.pid!);
    const size = 80 * 1000 * 1000;
    const answer = await sendAllThenRead(port, head('/v1/keypoints', 'image/jpeg', `Content-Length: ${size}`), size);
    rss.stop();
    assert.ok(answer.wroteAll);
    assert.equal(answer.status, 413);
    const problem = problemOf(answer);
    assert.equal(problem.code, 'PAYLOAD_TOO_LARGE');
    assert.match(problem.message, /The image\/jpeg body is 76\.29 MiB, more than the 15 MiB this route accepts/);
    assert.ok(rss.peak() - rss.baseline < 100, `RSS ${rss.baseline.toFixed(0)} → ${rss.peak().toFixed(0)} MiB`);
    assert.equal((await normalRequest()).status, 200);
  });

  test('row 4: JSON of 1.5 million members, or 3 million elements, is refused while parsing: it stalls the gateway no more than a body of one member of that size, memory bounded', async () => {
    const slack = await schedulingSlackMs(gw.url);
    const post = async (path: string, body: Buffer) => {
      await loopDelayMaxMs(gw.url);
      const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return { status: res.status, problem: await problemOfAnswer(res), delay: await loopDelayMaxMs(gw.url) };
    };
    // The one field keypoints knows, 1.5 million times (JSON.parse keeps the last).
    const members = Buffer.from(`{${'"max_faces":1,'.repeat(1_500_000)}"max_faces":1}`);
    const elements = Buffer.from(`{"images":[${'0,'.repeat(3_000_000)}0]}`);
    // What reading a body that size costs, whatever it holds: one member, 21 MB of base64.
    const reference = await post('/v1/keypoints', Buffer.from(`{"image":"${'A'.repeat(Math.floor((members.length - 12) / 4) * 4)}"}`));
    assert.equal(reference.status, 415, JSON.stringify(reference.problem));
    const rss = watchRss(gw.child.pid!);
    for (const [path, body] of [['/v1/keypoints', members], ['/v1/arscan/models', elements]] as const) {
      const { status, problem, delay } = await post(path, body);
      assert.equal(status, 413, JSON.stringify(problem));
      assert.match(problem.message, /more than 2000 values/);
      // Once 8.4 s: the parser stops after 2,000 values, a few ms. The margin is the spread of
      // reading and collecting a 21 MB body on a 2-core machine (GC pauses vary by a few hundred ms
      // from one body to the next), still an order of magnitude under what the parse cost.
      assert.ok(delay < reference.delay + 500 + 2 * slack, `event loop held ${delay.toFixed(0)} ms (one member: ${reference.delay.toFixed(0)} ms; slack ${slack.toFixed(0)} ms)`);
    }
    rss.stop();
    assert.ok(rss.peak() - rss.baseline < 100, `RSS ${rss.baseline.toFixed(0)} → ${rss.peak().toFixed(0)} MiB`);
    assert.equal((await normalRequest()).status, 200);
  });

  test('row 11: 100,000 unknown keys get a 400 of a few hundred bytes naming the first, and many unknown options a bounded list', async () => {
    const rss = watchRss(gw.child.pid!);
    const keys = Array.from({ length: 100_000 }, (_, i) => `"unknown_key_${i}":1`).join(',');
    const res = await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{${keys}}` });
    const text = await res.text();
    assert.equal(res.status, 400);
    assert.ok(text.length < 1024, `${text.length} bytes`);
    assert.match(ProblemSchema.parse(JSON.parse(text)).message, /"unknown_key_0" is not a known field/);
    const query = Array.from({ length: 300 }, (_, i) => `option_${i}=1`).join('&');
    const many = await fetch(`${gw.url}/v1/keypoints?${query}`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: coffee });
    const problem = await expectProblem(many, 400, 'INVALID_ARGUMENT');
    assert.equal(problem.errors!.length, 5);
    assert.match(problem.message, /"option_4" is not a known field; and 295 more\.$/);
    assert.ok(JSON.stringify(problem).length < 4096);
    // A key of a megabyte is not sent back whole.
    const long = await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"${'k'.repeat(MiB)}":1}` });
    assert.equal(long.status, 400);
    assert.ok((await long.text()).length < 1024);
    rss.stop();
    assert.ok(rss.peak() - rss.baseline < 100, `RSS ${rss.baseline.toFixed(0)} → ${rss.peak().toFixed(0)} MiB`);
    assert.equal((await normalRequest()).status, 200);
  });
});
