import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import keypoint from '../../gen/thrift/keypoint_types.js';
import { fakeKeypoint, ok } from '../helpers/fake-backends.js';
import { ctx, rpcClient } from '../helpers/rpc.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

const face = new keypoint.Face({
  rect: new keypoint.Rect({ left: 1, top: 2, width: 30, height: 40 }),
  score: 0.5,
  landmarks: Array.from({ length: keypoint.LANDMARK_COUNT }, () => new keypoint.Point({ x: 10, y: 20 })),
});
const request = () => new keypoint.DetectRequest({ image: Buffer.from('not even an image: the replay never reads it'), max_faces: 1 });

/** A replay backend with these arguments; its port once it says it listens. */
async function replay(t: TestContext, args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/replay-backend.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  return new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`replay backend exited with ${code}`)));
    child.stdout!.on('data', (c: Buffer) => {
      const m = /replay listening on 127\.0\.0\.1:(\d+)/.exec(c.toString());
      if (m) resolve(m[1]!);
    });
  });
}

/** `n` calls at once over 4 connections (the client matches replies by seqid, so a wrong seqid would fail a call). */
async function detect(t: TestContext, port: string, n: number): Promise<keypoint.DetectResponse[]> {
  const client = rpcClient({ KEYPOINT_BACKENDS: `127.0.0.1:${port}`, KEYPOINT_MAX_CONNECTIONS: '4' });
  t.after(() => client.close());
  return (await Promise.all(Array.from({ length: n }, () => client.call('keypoint', 'Detect', request(), ctx())))) as keypoint.DetectResponse[];
}

test('the replay backend asks upstream once per method, then answers every call with that reply and its own seqid', async (t) => {
  const upstream = await fakeKeypoint(() => ok({ faces: [face] }));
  t.after(() => upstream.close());
  const answers = await detect(t, await replay(t, ['--upstream', upstream.address]), 40);
  assert.equal(upstream.requests.length, 1, 'only the first call reached the upstream');
  for (const answer of answers) assert.deepEqual(answer.faces![0]!.rect, face.rect);
});

test('frames recorded with --frames are replayed by several processes with no upstream', async (t) => {
  const frames = mkdtempSync(join(tmpdir(), 'replay-frames-'));
  t.after(() => rmSync(frames, { recursive: true, force: true }));
  const upstream = await fakeKeypoint(() => ok({ faces: [face] }));
  await detect(t, await replay(t, ['--upstream', upstream.address, '--frames', frames]), 1);
  await upstream.close();
  assert.ok(existsSync(join(frames, 'Detect.frame')), 'the reply frame was recorded');

  const answers = await detect(t, await replay(t, ['--frames', frames, '--processes', '2']), 40);
  assert.equal(upstream.requests.length, 1);
  for (const answer of answers) assert.deepEqual(answer.faces![0]!.rect, face.rect);
});
