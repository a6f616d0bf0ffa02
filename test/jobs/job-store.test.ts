import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fixture } from '../helpers/fixtures.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { accepted, gatedImage3d, videoOf, waitForStatus } from '../helpers/jobs.js';

const coffee = fixture('coffee.png');

test('the embedded store across SIGKILL: unfinished jobs run again, finished ones keep their results', async () => {
  const be = await gatedImage3d();
  const dir = mkdtempSync(join(tmpdir(), 'vg-jobs-restart-'));
  const env = {
    IMAGE3D_BACKENDS: be.address,
    // Not used here; set so that no reference backend is started.
    KEYPOINT_BACKENDS: '127.0.0.1:9',
    ARSCAN_BACKENDS: '127.0.0.1:9',
    IMAGE3D_MAX_CONNECTIONS: '1',
    JOB_STORE_DIR: dir,
  };
  const servers: ServerProcess[] = [];
  after(async () => {
    for (const s of servers) s.child.kill('SIGKILL');
    await be.close();
  });
  const submit = async (url: string) => {
    return accepted(await fetch(`${url}/v1/image3d/videos`, { method: 'POST', headers: { 'content-type': 'image/png', prefer: 'respond-async' }, body: coffee }));
  };

  const first = await startServerProcess(env);
  servers.push(first);
  const done = await submit(first.url);
  be.release();
  await waitForStatus(first.url, done.id, ['succeeded']);
  const running = await submit(first.url);
  const queued = await submit(first.url);
  await be.arrived(2);
  assert.equal((await waitForStatus(first.url, running.id, ['running'])).status, 'running');
  assert.equal((await waitForStatus(first.url, queued.id, ['queued'])).status, 'queued');
  const exited = new Promise((resolve) => first.child.once('exit', resolve));
  first.child.kill('SIGKILL');
  await exited;

  const second = await startServerProcess(env);
  servers.push(second);
  be.release(10); // the killed process's call too, whose answer goes nowhere
  const [r, q] = [await waitForStatus(second.url, running.id, ['succeeded']), await waitForStatus(second.url, queued.id, ['succeeded'])];
  assert.equal(r.logid, running.logid);
  assert.equal(q.logid, queued.logid);
  // Each ran on the second process: the backend saw them again with their own log ids.
  assert.ok(be.requests.filter((req) => req.Base!.LogID === running.logid).length >= 2);
  assert.ok(be.requests.some((req) => req.Base!.LogID === queued.logid));
  const kept = await fetch(`${second.url}/v1/jobs/${done.id}/result`);
  assert.equal(kept.status, 200);
  assert.deepEqual(Buffer.from(await kept.arrayBuffer()), videoOf(1));
});
