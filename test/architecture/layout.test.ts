import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// test/ mirrors src/ (docs/development.md, "Where a test goes"): the tests of src/a/b.ts are
// test/a/b.test.ts or test/a/b/*.test.ts.

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Folders of suites that belong to no single source file, and what they cover. */
const CROSS_CUTTING = new Set(['architecture', 'hostile', 'deploy', 'docs', 'bench', 'scripts', 'helpers', 'backends', 'fixtures']);

/**
 * Source files (or folders, ending in /) without a test file of their own: each is tested
 * through the tests named. A new file gets its own test instead; splitting a listed file's
 * tests out into its mirror takes it off (the second test below asks for that).
 */
const TESTED_THROUGH: Record<string, string> = {
  'src/backends/': 'the reference backends, a unit of their own: test/backends/',
  'src/schemas/': 'every 200 answer of the tests is parsed with them (expectAnswer in test/helpers/gateway.ts); test/openapi.test.ts checks the document they make',
  'src/shared/': 'the Thrift server and zip writer the reference backends and the fake backends (test/helpers/fake-backends.ts) share: every test with a backend',
  'src/config/schema.ts': 'test/config/load.test.ts (loadConfig parses with it)',
  'src/cluster/metrics.ts': 'test/cluster/primary.test.ts (/metrics counts for both workers)',
  'src/limits/concurrency.ts': 'test/plugins/partners.test.ts (requests in flight per partner)',
  'src/limits/body.ts': 'the body limits of every route: test/plugins/body-guard.test.ts, test/hostile/bodies.test.ts and the routes\' size tests',
  'src/partners/identity.ts': 'test/plugins/partners.test.ts (which routes ask for a key) and test/plugins/usage.test.ts',
  'src/route-name.ts': 'test/plugins/metrics.test.ts and test/plugins/request-log.test.ts (the route label)',
  'src/stage-clock.ts': 'test/plugins/request-log.test.ts and test/plugins/metrics.test.ts (the time of each stage)',
  'src/logid.ts': 'test/plugins/request-context.test.ts',
  'src/plugins/body-parsers.ts': 'test/routes/keypoints/validation.test.ts and test/hostile/bodies.test.ts (JSON and multipart bodies)',
  'src/plugins/rpc.ts': 'test/rpc/* and every route test (app.rpc)',
  'src/plugins/stages.ts': 'test/plugins/request-log.test.ts (the time of each stage in the log line)',
  'src/plugins/tracing.ts': 'test/tracing.test.ts',
  'src/trace-context.ts': 'test/tracing.test.ts',
  'src/redis-options.ts': 'test/jobs/redis-store.test.ts and test/plugins/usage.test.ts (real redis-server)',
  'src/routes/binary-answer.ts': 'test/routes/image3d.test.ts and test/routes/arscan.test.ts (file downloads)',
  'src/input/capture-set.ts': 'test/routes/arscan.test.ts (every capture-set form) and test/hostile/zips.test.ts',
  'src/input/multipart-parser-fix.ts': 'test/hostile/requests.test.ts (a skipped form part that hung the request)',
  'src/input/options.ts': 'test/routes/keypoints/validation.test.ts and test/routes/image3d/validation.test.ts (options and queries)',
  'src/input/read-body.ts': 'test/plugins/body-guard.test.ts and test/hostile/bodies.test.ts',
  'src/jobs/blob-store.ts': 'test/jobs/job-store.test.ts (inputs and results on disk across SIGKILL)',
  'src/jobs/bull-queue.ts': 'test/jobs/redis-store.test.ts (jobs on Redis, taken over by another replica)',
  'src/jobs/idempotency.ts': 'test/jobs/jobs.test.ts (Idempotency-Key)',
  'src/jobs/job.ts': 'test/jobs/jobs.test.ts (every job read is parsed with the Job schema)',
  'src/jobs/kind.ts': 'test/jobs/jobs.test.ts and test/jobs/jobs/arscan-expiry.test.ts (image3d and arscan jobs)',
  'src/jobs/metrics.ts': 'test/jobs/jobs.test.ts (metrics: jobs by kind and state, queue depth, run time)',
  'src/jobs/pack.ts': 'test/jobs/job-store.test.ts (inputs and results read back after a restart)',
  'src/jobs/plugin.ts': 'every test/jobs/* test starts it',
  'src/jobs/prefer.ts': 'test/jobs/jobs.test.ts (respond-async, wait=N, preferences it does not know)',
  'src/jobs/routes.ts': 'test/jobs/jobs.test.ts (every /v1/jobs route)',
  'src/jobs/runner.ts': 'test/jobs/jobs.test.ts (cancel reaches the backend) and test/tracing.test.ts (a job\'s spans)',
  'src/jobs/scheduler.ts': 'test/jobs/jobs.test.ts (one partner\'s burst does not starve another)',
  'src/jobs/store.ts': 'the store interface: test/jobs/job-store.test.ts and test/jobs/redis-store.test.ts',
  'src/rpc/backend-status.ts': 'test/routes/keypoints/faults.test.ts (BaseResp.StatusCode rows) and test/rpc-to-http.test.ts',
  'src/rpc/backend-text.ts': 'test/hostile/backends.test.ts (backend text cut and escaped in the log)',
  'src/rpc/interceptors.ts': 'test/tracing.test.ts and test/plugins/metrics.test.ts (each call traced and counted)',
  'src/rpc/reply-checks.ts': 'test/hostile/backends.test.ts (replies checked against the IDL)',
  'src/rpc/rpc-client.ts': 'test/rpc/*, through test/helpers/rpc.ts',
  'src/rpc/rpc-error.ts': 'test/rpc-to-http.test.ts (every RpcError kind)',
  'src/services/arscan.ts': 'test/services/index.test.ts (the list) and test/routes/arscan.test.ts (its limits, client and route)',
  'src/services/descriptor.ts': 'test/services/index.test.ts (every descriptor it made)',
  'src/services/image3d.ts': 'test/services/index.test.ts (the list) and test/routes/image3d.test.ts (its limits, camera motions, client and route)',
  'src/services/keypoint.ts': 'test/services/index.test.ts (the list) and test/routes/keypoints.test.ts (its limits, client and route)',
  'src/usage/counts.ts': 'test/plugins/usage.test.ts and test/usage/*',
};

const walk = (dir: string): string[] =>
  readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? walk(path) : [path];
  });

const sources = walk('src').filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
const tests = walk('test').filter((f) => f.endsWith('.test.ts'));
const hasTests = (dir: string) => existsSync(join(root, dir)) && walk(dir).some((f) => f.endsWith('.test.ts'));
const mirrored = (source: string) => {
  const base = `test/${source.slice('src/'.length, -'.ts'.length)}`;
  return existsSync(join(root, `${base}.test.ts`)) || hasTests(base);
};
const allowedBy = (source: string) => Object.keys(TESTED_THROUGH).find((k) => (k.endsWith('/') ? source.startsWith(k) : source === k));

test('every source file has its mirror test file, or is listed with the tests that cover it', () => {
  const missing = sources.filter((s) => !mirrored(s) && !allowedBy(s));
  assert.deepEqual(missing, [], 'add test/<path>.test.ts for each, or (tested through another file) list it in TESTED_THROUGH with why');
});

test('every file listed as tested through others exists and still has no test of its own', () => {
  for (const listed of Object.keys(TESTED_THROUGH)) {
    assert.ok(existsSync(join(root, listed)), `${listed} is gone: take it off the list`);
    if (!listed.endsWith('/')) assert.ok(!mirrored(listed), `${listed} has its own test now: take it off the list`);
  }
});

test('every test file outside the cross-cutting folders mirrors a source file', () => {
  const strays = tests.filter((t) => {
    const path = relative('test', t);
    if (CROSS_CUTTING.has(path.split('/')[0]!)) return false;
    // test/a/b.test.ts mirrors src/a/b.ts; test/a/b/c.test.ts mirrors src/a/b.ts or src/a/b/c.ts.
    const base = path.slice(0, -'.test.ts'.length);
    return !existsSync(join(root, 'src', `${base}.ts`)) && !existsSync(join(root, 'src', `${base.split('/').slice(0, -1).join('/')}.ts`));
  });
  assert.deepEqual(strays, [], 'name a test after the source file it tests, or put a cross-cutting suite in a folder named for it');
});
