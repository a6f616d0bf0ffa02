import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { fixture } from '../helpers/fixtures.js';
import { JobList } from '../../src/schemas/jobs.js';
import { expectAnswer, startGateway } from '../helpers/gateway.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { startRedis, type Service } from '../helpers/services.js';
import { requireTool } from '../helpers/tools.js';
import { accepted, gatedImage3d, videoOf, waitForStatus, type GatedImage3d } from '../helpers/jobs.js';

const NO_REDIS = requireTool('redis-server', 'redis-server');

describe('jobs on Redis, shared by replicas', { skip: NO_REDIS }, () => {
  let redis: Service;
  let be: GatedImage3d;
  const servers: ServerProcess[] = [];
  let env: Record<string, string>;
  before(async () => {
    redis = await startRedis();
    be = await gatedImage3d();
    env = {
      REDIS_URL: redis.url,
      IMAGE3D_BACKENDS: be.address,
      // Not used here; set so that no reference backend is started.
      KEYPOINT_BACKENDS: '127.0.0.1:9',
      ARSCAN_BACKENDS: '127.0.0.1:9',
      // One volume for the blobs, as replicas on one host (or a shared volume, or S3) have.
      JOB_STORE_DIR: mkdtempSync(join(tmpdir(), 'vg-jobs-redis-')),
      JOBS_LOCK_MS: '2000',
    };
  });
  after(async () => {
    for (const s of servers) s.child.kill('SIGKILL');
    await be.close();
    await redis.stop();
  });
  const start = async (role: string) => {
    const server = await startServerProcess({ ...env, JOBS_ROLE: role });
    servers.push(server);
    return server;
  };

  test('submitted on an API replica, run by a worker replica; the worker SIGKILLed mid-job: another takes it over and it finishes; any replica answers', async () => {
    const api = await start('api');
    const worker = await start('worker');
    const res = await fetch(`${api.url}/v1/image3d/videos`, { method: 'POST', headers: { 'content-type': 'image/png', prefer: 'respond-async' }, body: fixture('coffee.png') });
    const job = await accepted(res);
    await be.arrived(1);
    assert.equal(be.requests[0]!.Base!.LogID, job.logid);
    assert.equal((await waitForStatus(api.url, job.id, ['running'])).status, 'running');
    // The events stream, on the API replica, of a job the worker runs.
    const events = fetch(`${api.url}/v1/jobs/${job.id}/events`).then((r) => r.text());
    const killed = new Promise((resolve) => worker.child.once('exit', resolve));
    worker.child.kill('SIGKILL');
    await killed;
    const second = await start('both');
    // Taken over once its lock runs out: the backend is called again for it.
    await be.arrived(2);
    assert.equal(be.requests[1]!.Base!.LogID, job.logid);
    be.release(2); // the killed worker's call too, whose answer goes nowhere
    const done = await waitForStatus(api.url, job.id, ['succeeded']);
    assert.equal(done.id, job.id);
    assert.match(await events, /"status":"succeeded"/);
    for (const replica of [api, second]) {
      const result = await fetch(`${replica.url}/v1/jobs/${job.id}/result`);
      assert.equal(result.status, 200);
      assert.deepEqual(Buffer.from(await result.arrayBuffer()), videoOf(2));
    }
  });

  test('cancel on one replica abandons the call on the replica running it', async () => {
    const [api, runner] = [servers[0]!, servers[2]!];
    const calls = be.requests.length;
    const job = await accepted(await fetch(`${runner.url}/v1/image3d/videos`, { method: 'POST', headers: { 'content-type': 'image/png', prefer: 'respond-async' }, body: fixture('coffee.png') }));
    await be.arrived(calls + 1);
    const res = await fetch(`${api.url}/v1/jobs/${job.id}/cancel`, { method: 'POST' });
    assert.equal(res.status, 202);
    be.release();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await waitForStatus(runner.url, job.id, ['canceled'])).status, 'canceled');
    const listed = await expectAnswer(await fetch(`${api.url}/v1/jobs`), JobList);
    assert.deepEqual(listed.jobs.map((j) => j.status), ['canceled', 'succeeded']);
  });

  // Also what broke: the plugins started before the refusal kept Redis connections retrying, and this file never ended.
  test('a Redis that may evict keys is refused at start, and what had started is closed again', async () => {
    const evicting = await startRedis();
    const admin = new Redis(evicting.url);
    try {
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      await assert.rejects(startGateway({ ...env, REDIS_URL: evicting.url }), /REDIS_URL: Redis has maxmemory-policy allkeys-lru; jobs need noeviction/);
      // Also what broke: the process itself ended with an uncaught error's stack trace, not the one line a bad variable gets.
      const started = await startServerProcess({ ...env, REDIS_URL: evicting.url }).then(
        (server) => (servers.push(server), 'listening'),
        (err: Error) => err.message,
      );
      assert.match(started, /exited with code 1 before listening/);
      assert.match(started, /^invalid configuration: REDIS_URL: Redis has maxmemory-policy allkeys-lru; jobs need noeviction \(an evicted key would be a job lost\)$/m);
      assert.doesNotMatch(started, /^\s+at /m, 'a stack trace');
      // With WORKERS, every worker would fail the same way: the primary stops (it started another every second, for ever).
      const workers = await startServerProcess({ ...env, REDIS_URL: evicting.url, WORKERS: '2' }).then(
        (server) => (servers.push(server), 'listening'),
        (err: Error) => err.message,
      );
      assert.match(workers, /exited with code 1 before listening/);
      assert.match(workers, /^invalid configuration: REDIS_URL: Redis has maxmemory-policy allkeys-lru/m);
      assert.doesNotMatch(workers, /starting another/);
    } finally {
      admin.disconnect();
      await evicting.stop();
    }
  });
});
