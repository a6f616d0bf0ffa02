import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import keypoint from '../../gen/thrift/keypoint_types.js';
import { fakeKeypoint, ok } from '../helpers/fake-backends.js';
import { ctx, rpcClient } from '../helpers/rpc.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('the replay backend asks upstream once per method, then answers every call with that reply and its own seqid', async (t) => {
  const face = new keypoint.Face({
    rect: new keypoint.Rect({ left: 1, top: 2, width: 30, height: 40 }),
    score: 0.5,
    landmarks: Array.from({ length: keypoint.LANDMARK_COUNT }, () => new keypoint.Point({ x: 10, y: 20 })),
  });
  const upstream = await fakeKeypoint(() => ok({ faces: [face] }));
  t.after(() => upstream.close());
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/replay-backend.ts', '--upstream', upstream.address], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const port = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`replay backend exited with ${code}`)));
    child.stdout!.on('data', (c: Buffer) => {
      const m = /replay listening on 127\.0\.0\.1:(\d+)/.exec(c.toString());
      if (m) resolve(m[1]!);
    });
  });
  // Several connections, several calls in flight on each: every call gets its own answer
  // (the client matches replies by seqid, so a wrong seqid would fail the call).
  const client = rpcClient({ KEYPOINT_BACKENDS: `127.0.0.1:${port}`, KEYPOINT_MAX_CONNECTIONS: '4' });
  t.after(() => client.close());
  const request = () => new keypoint.DetectRequest({ image: Buffer.from('not even an image: the replay never reads it'), max_faces: 1 });
  const answers = await Promise.all(Array.from({ length: 40 }, () => client.call('keypoint', 'Detect', request(), ctx())));
  assert.equal(upstream.requests.length, 1, 'only the first call reached the upstream');
  for (const answer of answers) assert.deepEqual((answer as keypoint.DetectResponse).faces![0]!.rect, face.rect);
});
