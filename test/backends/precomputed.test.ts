import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import keypoint from '../../gen/thrift/keypoint_types.js';
import { fixture, flatPng } from '../helpers/fixtures.js';
import { ctx, rpcClient } from '../helpers/rpc.js';

test('a reference backend started with --precomputed answers every call with its first, real, result', async (t) => {
  const entry = fileURLToPath(new URL('../../src/backends/keypoint/main.ts', import.meta.url));
  const child = fork(entry, ['--port', '0', '--precomputed'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  t.after(() => child.kill('SIGKILL'));
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const rpc = rpcClient({ KEYPOINT_BACKENDS: `127.0.0.1:${port}` });
  t.after(() => rpc.close());
  const detect = (image: Buffer) => rpc.call('keypoint', 'Detect', new keypoint.DetectRequest({ image, max_faces: 10 }), ctx());

  const first = await detect(fixture('astronaut.png'));
  assert.equal(first.faces!.length, 1, 'computed for real: the astronaut has a face');
  // A flat grey photo of the same size (replies are checked against the photo's size) has
  // none, but in benchmark mode it gets the astronaut's answer.
  const second = await detect(await flatPng(512, 512));
  assert.deepEqual(second, first);
});
