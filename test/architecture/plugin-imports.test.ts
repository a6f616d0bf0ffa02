import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../src/', import.meta.url));
const plugins = join(src, 'plugins');

/** Every import and re-export of a file, as written: its clause and the file it names. */
function importsOf(file: string, text = readFileSync(file, 'utf8')): Array<{ statement: string; typeOnly: boolean; target: string }> {
  const found = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?:([^'";]*?)\s+from\s+)?['"]([^'"]+)['"]/gm)) {
    const clause = m[1]?.trim() ?? '';
    const specifier = m[2]!;
    if (!specifier.startsWith('.')) continue;
    // `import type {...}`, or only `type` names between the braces; a side-effect import runs the file.
    const named = /^\{([\s\S]*)\}$/.exec(clause)?.[1];
    const typeOnly =
      /^(import|export)\s+type\s/.test(m[0]) ||
      (named !== undefined && named.split(',').map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith('type ')));
    found.push({ statement: m[0].replace(/\s+/g, ' '), typeOnly, target: resolve(dirname(file), specifier.replace(/\.js$/, '.ts')) });
  }
  return found;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

test('the import reader tells type-only imports from value imports, over several lines too', () => {
  const file = join(plugins, 'x.ts');
  const text = [
    "import fp from 'fastify-plugin';",
    "import type { A } from './a.js';",
    "import { type B, type C } from './b.js';",
    "import {\n  type D,\n  e,\n} from '../input/d.js';",
    "import { f } from './f.js';",
    "import './g.js';",
    "export { h } from './h.js';",
  ].join('\n');
  assert.deepEqual(
    importsOf(file, text).map((i) => [relative(src, i.target), i.typeOnly]),
    [
      ['plugins/a.ts', true],
      ['plugins/b.ts', true],
      ['input/d.ts', false],
      ['plugins/f.ts', false],
      ['plugins/g.ts', false],
      ['plugins/h.ts', false],
    ],
  );
});

test('no plugin imports another plugin\'s file, except the types of its decorators (import type)', () => {
  const offences = tsFiles(plugins).flatMap((file) =>
    importsOf(file)
      .filter((i) => i.target.startsWith(plugins + '/') && !i.typeOnly)
      .map((i) => `${relative(src, file)}: ${i.statement}`),
  );
  assert.deepEqual(offences, [], 'shared helpers belong in a plain module (src/limits, src/partners, ...), not in a plugin');
});

test('only app.ts imports plugins: routes, input, jobs and the rest take shared code from plain modules', () => {
  const offences = tsFiles(src)
    .filter((file) => !file.startsWith(plugins + '/') && file !== join(src, 'app.ts'))
    .flatMap((file) =>
      importsOf(file)
        .filter((i) => i.target.startsWith(plugins + '/') && !i.typeOnly)
        .map((i) => `${relative(src, file)}: ${i.statement}`),
    );
  assert.deepEqual(offences, []);
});
