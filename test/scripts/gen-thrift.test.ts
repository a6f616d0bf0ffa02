import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireTool } from '../helpers/tools.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const idlFiles = readdirSync(join(root, 'idl')).filter((f) => f.endsWith('.thrift')).sort();

test('idl/ is the backends\' IDL, unchanged', (t) => {
  const shared = join(root, '..', 'shared', 'idl');
  if (!existsSync(shared)) return t.skip('../shared/idl is not beside this clone');
  assert.deepEqual(idlFiles, readdirSync(shared).filter((f) => f.endsWith('.thrift')).sort());
  for (const f of idlFiles) assert.equal(readFileSync(join(root, 'idl', f), 'utf8'), readFileSync(join(shared, f), 'utf8'), f);
});

test('gen/thrift was generated from the current idl/ (run `npm run gen:thrift` if not)', () => {
  const recorded = readFileSync(join(root, 'gen/thrift/IDL.sha256'), 'utf8');
  const actual = idlFiles.map((f) => `${createHash('sha256').update(readFileSync(join(root, 'idl', f))).digest('hex')}  ${f}\n`).join('');
  assert.equal(recorded, actual);
});

test('regenerating gen/thrift with the Thrift compiler changes nothing', { skip: requireTool('thrift', 'thrift-compiler') }, () => {
  const out = mkdtempSync(join(tmpdir(), 'gen-thrift-'));
  try {
    execFileSync(join(root, 'scripts/gen-thrift.sh'), [out]);
    const committed = readdirSync(join(root, 'gen/thrift')).sort();
    assert.deepEqual(readdirSync(out).sort(), committed);
    for (const f of committed) assert.equal(readFileSync(join(out, f), 'utf8'), readFileSync(join(root, 'gen/thrift', f), 'utf8'), f);
  } finally {
    rmSync(out, { recursive: true });
  }
});
