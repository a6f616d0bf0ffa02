import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireTool } from '../helpers/tools.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

// The benchmark itself stays out of `npm test`; this short run keeps it from rotting.
test('npm run bench -- --smoke measures every run and writes its table and JSON', { skip: requireTool('wrk', 'wrk') }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--pin', '--workers', '1,2', '--rounds', '2'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, out);
  assert.match(out, /\| run \| req\/s \| p50 ms \| p99 ms \|/);
  const report = JSON.parse(readFileSync(`${root}/bench/results/smoke.json`, 'utf8')) as {
    results: Array<{ name: string; rps: number; errors: number; p99_ms: number; reference?: string; vs_reference?: { rps: number; p99: number } }>;
    targets: Array<{ what: string; value: number }>;
    node_flags: { gateway: string[]; ceiling: string[] };
  };
  // The ceiling runs under the gateway's node flags: without --no-memory-reducer it spent twice
  // the CPU a request after the quiet spell of the floor runs, and flattered the gateway.
  assert.ok(report.node_flags.gateway.includes('--no-memory-reducer'), report.node_flags.gateway.join(' '));
  assert.deepEqual(report.node_flags.ceiling, report.node_flags.gateway);
  const names = report.results.map((r) => r.name);
  for (const expected of [/^floor/, /^ceiling: raw JPEG/, /^keypoints raw/, /^keypoints multipart/, /^keypoints base64 JSON/, /^image3d/, /^arscan raw/, /^arscan multipart/, /^arscan base64 JSON/, /WORKERS=1$/, /WORKERS=2$/]) {
    assert.ok(names.some((n) => expected.test(n)), `${expected} ran`);
  }
  for (const r of report.results) {
    assert.ok(r.rps > 0 && r.p99_ms > 0, `${r.name} measured something`);
    assert.equal(r.errors, 0, `${r.name} had no failed requests`);
  }
  assert.ok(report.targets.length >= 8 && report.targets.every((t) => Number.isFinite(t.value)));
  // Each round of a gateway run is compared with a run of its reference made just before it.
  const raw = report.results.filter((r) => r.name === 'keypoints raw JPEG');
  assert.equal(raw.length, 2);
  assert.equal(report.results.filter((r) => r.name === 'ceiling: raw JPEG').length, 2);
  for (const r of raw) {
    const before = report.results[report.results.indexOf(r) - 1]!;
    assert.equal(before.name, 'ceiling: raw JPEG');
    assert.equal(r.vs_reference?.rps, r.rps / before.rps);
  }
});
