import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import keypoint from '../../gen/thrift/keypoint_types.js';
import { fixture } from '../helpers/fixtures.js';
import { ctx, rpcClient } from '../helpers/rpc.js';

test('a reference backend started with --precomputed answers every call with its first, real, result', async (t) => {
  const entry = fileURLToPath(new URL('../../src/backends/keypoint/main.ts', import.meta.url));
  const child = fork(entry, ['--port', '0', '--precomputed'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  t.after(() => child.kill('SIGKILL'));
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const rpc = rpcClient({ KEYPOINT_BACKENDS: `127.0.0.1:${port}` });
  t.after(() => rpc.close());
  const detect = (name: string) => rpc.call('keypoint', 'Detect', new keypoint.DetectRequest({ image: fixture(name), max_faces: 10 }), ctx());

  const first = await detect('astronaut.png');
  assert.equal(first.faces!.length, 1, 'computed for real: the astronaut has a face');
  // The coffee cup has none, but in benchmark mode it gets the astronaut's answer.
  const second = await detect('coffee.png');
  assert.deepEqual(second, first);
});
