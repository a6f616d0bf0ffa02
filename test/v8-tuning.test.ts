import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

// Objects of one site kept alive across young collections: what makes V8 pretenure a site.
const KEEP_ALIVE = `const keep = []; const make = (i) => ({ a: i, b: [i] });
for (let i = 0; i < 2e6; i++) { keep.push(make(i)); if (keep.length > 300000) keep.length = 0; }`;
/** How many allocation sites V8 decides to pretenure in a process running KEEP_ALIVE. */
async function pretenured(imports: string[]): Promise<number> {
  const { stdout } = await run(process.execPath, ['--trace-pretenuring-statistics', ...imports, '-e', KEEP_ALIVE], { maxBuffer: 64 * 1024 * 1024 });
  return stdout.split('\n').filter((line) => line.includes('=> tenure')).length;
}

test('a process that imports v8-tuning pretenures no allocation site', async () => {
  // The same program without it does: the check below can fail.
  assert.ok((await pretenured([])) > 0, 'V8 pretenured nothing without the module: this test measures nothing');
  assert.equal(await pretenured(['--import', 'tsx', '--import', './src/v8-tuning.ts']), 0);
});

test('the gateway imports v8-tuning before anything else', () => {
  const firstImport = /^import .*$/m.exec(readFileSync('src/server.ts', 'utf8'))?.[0];
  assert.equal(firstImport, "import './v8-tuning.js';");
});
