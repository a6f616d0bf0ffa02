import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type thrift from 'thrift';
import { after, describe, test } from 'node:test';
import arscan from '../../gen/thrift/arscan_types.js';
import base from '../../gen/thrift/base_types.js';
import image3d from '../../gen/thrift/image3d_types.js';
import keypoint from '../../gen/thrift/keypoint_types.js';
import { measure } from '../helpers/bounds.js';
import { callOf, emptyExceptionFrame, fakeArscan, fakeImage3d, fakeKeypoint, floodOfLandmarks, ok, rawBackend, replyFrame, type RawBackend } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import { KeypointsAnswer } from '../../src/schemas/keypoints.js';
import { expectAnswer, expectProblem, startGateway, type Problem, type TestGateway } from '../helpers/gateway.js';
import { makeZip } from '../helpers/zips.js';

// Issue 11, rows 5 to 9: a backend that is broken, or hostile, costs the gateway bounded
// memory and time, never puts its own words in a partner's answer, nor more than ~1 KiB of
// them in a log line; and the next request is served as usual.

const coffee = fixture('coffee.png');
const MiB = 2 ** 20;

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});
const closing = <T extends { close(): Promise<void> }>(thing: T): T => (cleanup.push(() => thing.close()), thing);

async function gatewayFor(env: Record<string, string>): Promise<TestGateway> {
  return closing(await startGateway({ KEYPOINT_TIMEOUT_MS: '10000', ...env }));
}

const postKeypoints = (gw: TestGateway) => fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: coffee });

/** A raw backend that is hostile until `behave()`, then answers every call with an empty, valid reply. */
async function turncoat(hostile: (socket: import('node:net').Socket, frame: Buffer) => void): Promise<RawBackend & { behave(): void }> {
  let honest = false;
  const be = closing(
    await rawBackend((socket, frame) => (honest ? socket.write(replyFrame('Detect', callOf(frame).seqid, ok())) : hostile(socket, frame))),
  );
  return Object.assign(be, { behave: () => (honest = true) });
}

/** The request's log lines, as written. */
const linesOf = (gw: TestGateway, logid: string) => gw.logs.filter((l) => l.logid === logid).map((l) => JSON.stringify(l));

/** The warn line of the failed backend call, saying what was wrong. */
function warned(gw: TestGateway, logid: string): string {
  const line = gw.logs.find((l) => l.logid === logid && l.level === 40 && l.msg === 'backend call failed');
  assert.ok(line, 'a warn line for the failed call');
  return JSON.stringify(line);
}

async function servedAfter(gw: TestGateway, post = postKeypoints): Promise<void> {
  const res = await post(gw);
  assert.equal(res.status, 200, await res.clone().text());
}

describe('replies are checked against the IDL before anything reaches the partner', () => {
  test('5 million landmarks (a 115 MB frame, under the old 512 MiB cap): 502 at the frame header, no stall, no memory', async () => {
    const be = await turncoat((socket, frame) => void floodOfLandmarks(socket, frame, 5_000_000));
    const gw = await gatewayFor({ KEYPOINT_BACKENDS: be.address });
    const { result: body, rssGrowthMiB, longestStallMs } = await measure(async () => expectProblem(await postKeypoints(gw), 502, 'BACKEND_PROTOCOL_ERROR'));
    assert.match(body.message, /frame of 11\d{7} bytes, beyond the 1048576-byte cap \(KEYPOINT_MAX_REPLY_BYTES\)/);
    // Was +1 GB and a 7 s stall. Generous bounds: this process also runs the test's backend.
    assert.ok(rssGrowthMiB < 100, `the process grew ${rssGrowthMiB.toFixed(0)} MiB`);
    assert.ok(longestStallMs < 1000, `the event loop stalled ${longestStallMs.toFixed(0)} ms`);
    assert.match(warned(gw, body.logid), /beyond the 1048576-byte cap/);
    be.behave();
    await servedAfter(gw);
  });

  const face = (fields: Partial<keypoint.Face> = {}, points = 106) =>
    new keypoint.Face({
      rect: new keypoint.Rect({ left: 10, top: 10, width: 50, height: 50 }),
      score: 0.9,
      landmarks: Array.from({ length: points }, (_, i) => new keypoint.Point({ x: 20 + (i % 30), y: 20 + (i % 20) })),
      ...fields,
    });
  const nanPoint = face();
  nanPoint.landmarks[3] = new keypoint.Point({ x: NaN, y: 1 });
  for (const [what, reply, diagnosis] of [
    ['a NaN landmark', ok({ faces: [nanPoint] }), /face 1 has landmark 3 at \(NaN, 1\), off the/],
    ['an infinite score', ok({ faces: [face({ score: Infinity })] }), /face 1 has score Infinity, outside 0..1/],
    ['a negative size', ok({ faces: [face({ rect: new keypoint.Rect({ left: 1, top: 1, width: -5, height: 5 }) })] }), /face 1 has a rect of -5x5/],
    ['a height of 2147483647', ok({ image_width: 640, image_height: 2147483647 }), /image_height 2147483647 is outside 32..4096/],
    ['105 landmarks', ok({ faces: [face({}, 105)] }), /face 1 has 105 landmarks, not 106/],
    ['two faces when one was asked for', ok({ faces: [face(), face()] }), /2 faces for a request of at most 1/],
    ['a yaw of 720 degrees', ok({ faces: [face({ yaw: 720, pitch: 0, roll: 0 })] }), /face 1 has yaw 720, outside -180..180 degrees/],
    // The photo (coffee.png) is 600x400; a size it is not was forwarded, landmarks and all.
    ['a size the photo is not', ok({ image_width: 4096, image_height: 4096 }), /the image is 4096x4096, not the photo's 600x400 \(nor turned a quarter\)/],
  ] as const) {
    test(`keypoints: ${what} is a 502 BACKEND_PROTOCOL_ERROR saying so, and a warn line`, async () => {
      let next: keypoint.DetectResponse = reply;
      const be = closing(await fakeKeypoint(() => next));
      const gw = await gatewayFor({ KEYPOINT_BACKENDS: be.address });
      const body = await expectProblem(await postKeypoints(gw), 502, 'BACKEND_PROTOCOL_ERROR');
      assert.match(body.message, /^The keypoint backend call failed: the reply breaks what the IDL promises: /);
      assert.match(body.message, diagnosis);
      assert.match(warned(gw, body.logid), diagnosis);
      next = ok({ faces: [face()], image_width: 600, image_height: 400 });
      await servedAfter(gw);
    });
  }

  // The decoders built whatever count was announced: a million empty faces in 1 MiB held the
  // event loop most of a second, 7 million BaseResp.Extra entries in 112 MB for 16 s and 1 GB.
  for (const [what, reply, count] of [
    ['40,000 landmarks (within the size cap)', ok({ faces: [face({}, 40_000)] }), 40_000],
    ['a BaseResp.Extra of 20,000 entries', ok({ BaseResp: new base.BaseResp({ StatusCode: 0, Extra: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, 'v'])) }) }), 20_000],
  ] as const) {
    test(`keypoints: ${what} is refused as its count is read, before anything is built`, async () => {
      let next: keypoint.DetectResponse = reply;
      const be = closing(await fakeKeypoint(() => next));
      const gw = await gatewayFor({ KEYPOINT_BACKENDS: be.address, KEYPOINT_MAX_REPLY_BYTES: String(4 * MiB) });
      const body = await expectProblem(await postKeypoints(gw), 502, 'BACKEND_PROTOCOL_ERROR');
      assert.match(warned(gw, body.logid), new RegExp(`a (list|map) of ${count} elements, more than any message of the IDL holds \\(10000\\)`));
      next = ok({ faces: [face()], image_width: 600, image_height: 400 });
      await servedAfter(gw);
    });
  }

  test('keypoints: the photo reported turned a quarter (EXIF orientation) is its size too', async () => {
    const be = closing(await fakeKeypoint(() => ok({ faces: [face()], image_width: 400, image_height: 600 })));
    const gw = await gatewayFor({ KEYPOINT_BACKENDS: be.address });
    const answer = await expectAnswer(await postKeypoints(gw), KeypointsAnswer);
    assert.deepEqual(answer.image, { width: 400, height: 600 });
  });

  test('a reply without the BaseResp the IDL requires: 502 saying so', async () => {
    // The generated structs refuse to be built without it, so this one is written by hand: an empty DetectResponse.
    const empty = { write: (out: thrift.TProtocol) => (out.writeStructBegin('DetectResponse'), out.writeFieldStop(), out.writeStructEnd()) };
    const be = await turncoat((socket, frame) => socket.write(replyFrame('Detect', callOf(frame).seqid, empty)));
    const gw = await gatewayFor({ KEYPOINT_BACKENDS: be.address });
    const body = await expectProblem(await postKeypoints(gw), 502, 'BACKEND_PROTOCOL_ERROR');
    assert.match(body.message, /the reply breaks what the IDL promises: no BaseResp/);
    be.behave();
    await servedAfter(gw);
  });

  test('image3d and arscan check theirs the same way: empty or mislabelled payloads, counts out of range', async () => {
    const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom and the rest')]);
    const video = (fields: Partial<image3d.RenderResponse>) =>
      new image3d.RenderResponse({ video: mp4, mime_type: 'video/mp4', frame_count: 60, BaseResp: new base.BaseResp({ StatusCode: 0 }), ...fields });
    let nextVideo = video({});
    const be3d = closing(await fakeImage3d(() => nextVideo));
    const model = await makeZip([['model.glb', Buffer.from('glTF')]]);
    const reconstruction = (fields: Partial<arscan.ReconstructResponse>) =>
      new arscan.ReconstructResponse({ model_zip: model, model_format: 'glb', vertex_count: 4, images_used: 3, BaseResp: new base.BaseResp({ StatusCode: 0 }), ...fields });
    let nextModel = reconstruction({});
    const beAr = closing(await fakeArscan(() => nextModel));
    const gw = await gatewayFor({ IMAGE3D_BACKENDS: be3d.address, ARSCAN_BACKENDS: beAr.address });
    const left = fixture('motorcycle_left.png');
    const set = await makeZip([['a.png', left], ['b.png', fixture('motorcycle_right.png')], ['c.png', left]]);
    const postVideo = (g: TestGateway) => fetch(`${g.url}/v1/image3d/videos`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: coffee });
    const postSet = (g: TestGateway) => fetch(`${g.url}/v1/arscan/models`, { method: 'POST', headers: { 'content-type': 'application/zip' }, body: set });

    for (const [reply, diagnosis] of [
      [video({ video: Buffer.alloc(0) }), /: no video/],
      [video({ video: Buffer.from('<html>error page</html>') }), /a video that is not an MP4 file/],
      [video({ mime_type: 'text/html\r\nX-Injected: 1' }), /another type than the video\/mp4 asked for/],
      [video({ frame_count: -1 }), /frame_count -1 is outside 1..2400/],
      [video({ depth_png: Buffer.from('not a png') }), /a depth map that is not a PNG file/],
    ] as const) {
      nextVideo = reply;
      const body = await expectProblem(await postVideo(gw), 502, 'BACKEND_PROTOCOL_ERROR');
      assert.match(body.message, /^The image3d backend call failed: the reply breaks what the IDL promises: /);
      assert.match(body.message, diagnosis);
      assert.doesNotMatch(body.message, /Injected/);
      assert.match(warned(gw, body.logid), diagnosis);
    }
    nextVideo = video({});
    await servedAfter(gw, postVideo);

    for (const [reply, diagnosis] of [
      [reconstruction({ model_zip: Buffer.alloc(0) }), /: no model/],
      [reconstruction({ model_zip: Buffer.from('PK\x05\x06'.padEnd(22, '\0'), 'latin1') }), /a model that is not a zip file/],
      [reconstruction({ model_format: 'obj' }), /a model in another format than the glb asked for/],
      [reconstruction({ images_used: 9 }), /images_used 9 is outside 0..3/],
      [reconstruction({ vertex_count: -4 }), /vertex_count -4 is negative/],
    ] as const) {
      nextModel = reply;
      const body = await expectProblem(await postSet(gw), 502, 'BACKEND_PROTOCOL_ERROR');
      assert.match(body.message, /^The arscan backend call failed: the reply breaks what the IDL promises: /);
      assert.match(body.message, diagnosis);
      assert.match(warned(gw, body.logid), diagnosis);
    }
    nextModel = reconstruction({});
    await servedAfter(gw, postSet);
  });
});

describe('a connection is never reused with bytes left over from a reply', () => {
  for (const [when, delayMs] of [
    ['with the reply', 0],
    ['after it, while the connection is idle', 50],
  ] as const) {
    test(`3 stray bytes ${when}: the connection is closed; the next, unrelated request is a 200`, async () => {
      const be = closing(
        await rawBackend((socket, frame) => {
          const reply = replyFrame('Detect', callOf(frame).seqid, ok());
          const stray = Buffer.from([0x80, 0x01, 0x00]);
          if (delayMs === 0) socket.write(Buffer.concat([reply, stray]));
          else socket.write(reply, () => setTimeout(() => socket.write(stray), delayMs));
        }),
      );
      // One connection, which the second request would reuse.
      const gw = await gatewayFor({ KEYPOINT_BACKENDS: be.address, KEYPOINT_MAX_CONNECTIONS: '1' });
      assert.equal((await postKeypoints(gw)).status, 200, 'the reply itself was whole');
      for (let i = 0; i < 100 && be.closes === 0; i++) await sleep(10);
      assert.equal(be.closes, 1, 'the gateway closed the connection');
      const next = await postKeypoints(gw);
      assert.equal(next.status, 200, await next.clone().text());
      assert.equal(be.frames, 2);
    });
  }
});

describe('nothing a backend sends reaches a partner; in the log it is cut to ~1 KiB and escaped', () => {
  /** Every log line of the request is short, and holds the backend's text only escaped. */
  function boundedLogs(gw: TestGateway, logid: string): string[] {
    const lines = linesOf(gw, logid);
    assert.ok(lines.length > 0);
    for (const line of lines) assert.ok(line.length < 8192, `a log line of ${line.length} characters`);
    assert.ok(lines.join('').length < 32_768, 'the request logged less than 32 KiB');
    // JSON escapes control characters once; backendText escaped them before that, so a raw one
    // would read \u001b here and an escaped one \\u001b.
    for (const line of lines) assert.doesNotMatch(line, /(?<!\\)\\u001b|(?<!\\)\\r/);
    return lines;
  }

  test('a reply naming a 1 MB method: a 502 in the gateway\'s words, the name logged cut and escaped', async () => {
    const be = await turncoat((socket, frame) => socket.write(replyFrame(`\x1b[2J${'M'.repeat(1_000_000)}`, callOf(frame).seqid, ok())));
    const gw = await gatewayFor({ KEYPOINT_BACKENDS: be.address });
    const res = await postKeypoints(gw);
    const text = await res.clone().text();
    const body = await expectProblem(res, 502, 'BACKEND_PROTOCOL_ERROR');
    assert.ok(text.length < 2048, `a ${text.length}-byte answer`);
    assert.doesNotMatch(text, /MMMM|\\u001b|\x1b/);
    assert.match(body.message, /the reply \(for another method\) does not match call "Detect" #1/);
    const lines = boundedLogs(gw, body.logid);
    assert.ok(lines.some((l) => l.includes('\\\\u001b[2JMMMM') && l.includes('more characters')), 'the name is in the log, cut and escaped');
    be.behave();
    await servedAfter(gw);
  });

  test('a reply naming a method in ANSI escapes and CRLF: none of it in the answer, escaped in the log', async () => {
    const be = await turncoat((socket, frame) => socket.write(replyFrame('\x1b[31mDetect\r\n{"level":60,"msg":"forged"}', callOf(frame).seqid, ok())));
    const gw = await gatewayFor({ KEYPOINT_BACKENDS: be.address });
    const res = await postKeypoints(gw);
    const text = await res.clone().text();
    const body = await expectProblem(res, 502, 'BACKEND_PROTOCOL_ERROR');
    assert.doesNotMatch(text, /forged|\\u001b|\\r/);
    const lines = boundedLogs(gw, body.logid);
    assert.ok(lines.some((l) => l.includes('\\\\u001b[31mDetect\\\\u000d\\\\u000a')));
    be.behave();
    await servedAfter(gw);
  });

  test('an exception with no message at all: 502 BACKEND_ERROR at once (the call hung past its deadline, and as a recovery probe shut its instance for good)', async () => {
    const be = await turncoat((socket, frame) => socket.write(emptyExceptionFrame('Detect', callOf(frame).seqid)));
    const gw = await gatewayFor({ KEYPOINT_BACKENDS: be.address, KEYPOINT_TIMEOUT_MS: '60000' });
    // Well before the 60 s deadline: the old code never answered it at all.
    const res = await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: coffee, signal: AbortSignal.timeout(30_000) });
    await expectProblem(res, 502, 'BACKEND_ERROR');
    be.behave();
    await servedAfter(gw);
  });

  test('an exception of 1 MB of text with ANSI escapes: 502 BACKEND_ERROR in the catalogue\'s words, the text cut and escaped in the log', async () => {
    let fail = true;
    const be = closing(
      await fakeKeypoint(() => {
        if (fail) throw new Error(`\x1b[2J\r\n${'E'.repeat(MiB)}`);
        return ok();
      }),
    );
    const gw = await gatewayFor({ KEYPOINT_BACKENDS: be.address, KEYPOINT_MAX_REPLY_BYTES: String(2 * MiB) });
    const res = await postKeypoints(gw);
    const text = await res.clone().text();
    const body = await expectProblem(res, 502, 'BACKEND_ERROR');
    assert.doesNotMatch(text, /EEEE/);
    boundedLogs(gw, body.logid);
    fail = false;
    await servedAfter(gw);
  });

  test('a StatusMessage of 50 MB: a clean 502, and the log gets ~1 KiB of it, not 250 MB', async () => {
    let status: image3d.RenderResponse | undefined = new image3d.RenderResponse({
      BaseResp: new base.BaseResp({ StatusCode: 5000, StatusMessage: `\x1b[1m${'S'.repeat(50 * MiB)}` }),
    });
    const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom')]);
    const be = closing(
      await fakeImage3d(() => status ?? new image3d.RenderResponse({ video: mp4, mime_type: 'video/mp4', BaseResp: new base.BaseResp({ StatusCode: 0 }) })),
    );
    // Writing and reading 50 MB takes a while on a loaded machine: the deadline is not what is tested.
    const gw = await gatewayFor({ IMAGE3D_BACKENDS: be.address, IMAGE3D_TIMEOUT_MS: '60000' });
    const post = (g: TestGateway) => fetch(`${g.url}/v1/image3d/videos`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: coffee });
    const res = await post(gw);
    const text = await res.clone().text();
    const body: Problem = await expectProblem(res, 502, 'BACKEND_ERROR');
    assert.ok(text.length < 1024);
    assert.doesNotMatch(text, /SSSS/);
    const lines = boundedLogs(gw, body.logid);
    assert.ok(lines.some((l) => l.includes('StatusCode 5000: \\\\u001b[1mSSSS') && l.includes(`(${50 * MiB + 4 - 1024} more characters)`)));
    status = undefined;
    await servedAfter(gw, post);
  });
});
