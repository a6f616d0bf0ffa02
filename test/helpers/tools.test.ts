import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findTool, requireTool } from './tools.js';

const run = promisify(execFile);
const tools = fileURLToPath(new URL('./tools.ts', import.meta.url));
const reporter = fileURLToPath(new URL('./summary-reporter.mjs', import.meta.url));

test('a program on PATH is found; a missing one is a skip reason naming its package, or an error under VG_REQUIRE_ALL=1', (t) => {
  // This test runs under CI's VG_REQUIRE_ALL=1 as well: it sets the variable both ways itself.
  const before = process.env.VG_REQUIRE_ALL;
  t.after(() => (before === undefined ? delete process.env.VG_REQUIRE_ALL : (process.env.VG_REQUIRE_ALL = before)));
  delete process.env.VG_REQUIRE_ALL;
  assert.equal(findTool('node') !== undefined, true);
  assert.equal(requireTool('node', 'nodejs'), false);
  assert.equal(requireTool('vg-no-such-program', 'vg-package'), 'needs vg-no-such-program (apt-get install vg-package)');
  process.env.VG_REQUIRE_ALL = '1';
  assert.equal(requireTool('node', 'nodejs'), false);
  assert.throws(() => requireTool('vg-no-such-program', 'vg-package'), /VG_REQUIRE_ALL=1 and this test needs vg-no-such-program/);
});

/** A test file that needs a missing program, run by Node's test runner as `npm test` runs it. */
async function runNeedy(env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'vg-tools-'));
  const file = join(dir, 'needy.test.ts');
  writeFileSync(
    file,
    `import { test } from 'node:test';\nimport { requireTool } from ${JSON.stringify(tools)};\n` +
      `test('drives vg-no-such-program', { skip: requireTool('vg-no-such-program', 'vg-package') }, () => {});\ntest('needs nothing', () => {});\n`,
  );
  const args = ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-reporter-destination=stdout', `--test-reporter=${reporter}`, '--test-reporter-destination=stdout', file];
  // Without the NODE_TEST_CONTEXT this runner gives its children, so the inner runner reports as `npm test` does.
  const { NODE_TEST_CONTEXT: _, ...outer } = process.env;
  return run(process.execPath, args, { env: { ...outer, ...env }, cwd: fileURLToPath(new URL('../..', import.meta.url)) }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
  );
}

test('without the program the run passes, ending with one line naming the skipped test and the summary', async () => {
  const { code, stdout } = await runNeedy({ VG_REQUIRE_ALL: '' });
  assert.equal(code, 0, stdout);
  const lines = stdout.trimEnd().split('\n');
  assert.match(lines.at(-2)!, /^skipped: .*needy\.test\.ts: drives vg-no-such-program: needs vg-no-such-program \(apt-get install vg-package\)$/);
  assert.match(lines.at(-1)!, /^summary: 2 tests, 1 passed, 0 failed, 0 cancelled, 1 skipped \(tests and suites\), \d+ s$/);
});

test('with VG_REQUIRE_ALL=1 (as .ci/run sets it) a missing program fails the run, naming it', async () => {
  const { code, stdout } = await runNeedy({ VG_REQUIRE_ALL: '1' });
  assert.notEqual(code, 0);
  assert.match(stdout, /VG_REQUIRE_ALL=1 and this test needs vg-no-such-program \(apt-get install vg-package\)/);
  assert.match(stdout, /summary: .* 1 failed/);
});

test("the README's install line names every Debian package .ci/run installs, and its table each of them", () => {
  const root = new URL('../../', import.meta.url);
  const ci = readFileSync(new URL('.ci/run', root), 'utf8');
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const packages = /^packages=\(([^)]*)\)$/m.exec(ci)?.[1]?.split(/\s+/).filter(Boolean) ?? [];
  assert.ok(packages.length > 0, ".ci/run's package list");
  const install = /^sudo apt-get install (.+)$/m.exec(readme)?.[1]?.split(/\s+/) ?? [];
  assert.deepEqual([...install].sort(), [...packages].sort());
  for (const name of packages) assert.match(readme, new RegExp(`^\\| [^|]*\`${name}\``, 'm'), `${name} in the README's table`);
});
