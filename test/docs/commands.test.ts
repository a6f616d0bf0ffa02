import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { requireTool } from '../helpers/tools.js';

// The convention (docs/development.md): ```sh blocks in README.md and docs/*.md are run as
// written against a gateway with the reference backends, only the port adapted; a ```json
// block right after one is its sample answer and must match; ```text blocks are never run.

/** What the gateway the docs' commands run against is started with; add what an example needs. */
const DOCS_GATEWAY_ENV: Record<string, string> = {
  // Deadlines a loaded machine meets: a first render there took longer than the default 10 s.
  KEYPOINT_TIMEOUT_MS: '60000',
  IMAGE3D_TIMEOUT_MS: '120000',
  JOB_STORE_DIR: join(mkdtempSync(join(tmpdir(), 'vg-docs-jobs-')), 'jobs'),
};

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const SHELL_FENCES_NOT_RUN = new Set(['bash', 'shell', 'console', 'zsh', 'shell-session']);

interface Block {
  lang: string;
  code: string;
  line: number;
}

export function codeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const fence = /^```([^\n`]*)\n([\s\S]*?)^```[ \t]*$/gm;
  for (let m = fence.exec(markdown); m; m = fence.exec(markdown)) {
    blocks.push({ lang: m[1]!.trim().split(/\s+/)[0] ?? '', code: m[2]!, line: markdown.slice(0, m.index).split('\n').length });
  }
  return blocks;
}

/**
 * Asserts that a sample answer in the docs is the real one: `logid` matches any log id, a
 * string ending in "…" any string that starts with the rest, an array ending in "…" any array
 * that starts with the items before it.
 */
export function assertSample(doc: unknown, real: unknown, path = '$'): void {
  if (typeof doc === 'string' && doc.endsWith('…')) {
    assert.equal(typeof real, 'string', `${path} is a string`);
    assert.ok((real as string).startsWith(doc.slice(0, -1)), `${path}: ${JSON.stringify(real).slice(0, 80)} starts with ${JSON.stringify(doc)}`);
  } else if (Array.isArray(doc)) {
    assert.ok(Array.isArray(real), `${path} is an array`);
    const open = doc.at(-1) === '…';
    const items = open ? doc.slice(0, -1) : doc;
    if (open) assert.ok(real.length >= items.length, `${path} has at least ${items.length} items`);
    else assert.equal(real.length, items.length, `${path} has ${items.length} items`);
    items.forEach((item, i) => assertSample(item, real[i], `${path}[${i}]`));
  } else if (doc !== null && typeof doc === 'object') {
    assert.ok(real !== null && typeof real === 'object' && !Array.isArray(real), `${path} is an object`);
    assert.deepEqual(Object.keys(real).sort(), Object.keys(doc).sort(), `${path} has the documented fields`);
    for (const [key, value] of Object.entries(doc)) {
      if (key === 'logid') assert.match((real as Record<string, unknown>)[key] as string, /^[A-Za-z0-9_.-]{1,64}$/, `${path}.logid`);
      else assertSample(value, (real as Record<string, unknown>)[key], `${path}.${key}`);
    }
  } else {
    assert.deepEqual(real, doc, path);
  }
}

describe('code blocks in the README and docs/', () => {
  test('every shell block is either run (sh) or marked as not run (text)', () => {
    for (const file of DOCS) {
      for (const block of codeBlocks(readFileSync(join(root, file), 'utf8'))) {
        assert.ok(!SHELL_FENCES_NOT_RUN.has(block.lang), `${file}:${block.line}: \`\`\`${block.lang}: use \`\`\`sh (run by this test) or \`\`\`text (not run)`);
      }
    }
  });

  test('a sample answer with "…" matches the real one, and a wrong one does not', () => {
    const real = { logid: 'x1', faces: [{ landmarks: [[1, 2], [3, 4]], video: 'AAAAGGZ0' }] };
    assertSample({ logid: 'other', faces: [{ landmarks: [[1, 2], '…'], video: 'AAAA…' }] }, real);
    assert.throws(() => assertSample({ logid: 'x1', faces: [{ landmarks: [[1, 3], '…'], video: 'AAAA…' }] }, real));
    assert.throws(() => assertSample({ logid: 'x1', faces: [{ landmarks: [[1, 2]], video: 'AAAA…' }] }, real));
    assert.throws(() => assertSample({ logid: 'x1', faces: [{ landmarks: [[1, 2], '…'] }] }, real));
  });
});

describe('the sh blocks of the README and docs/, run as written', { skip: requireTool('curl', 'curl') }, () => {
  let server: ServerProcess;
  // The repository's files, seen from a folder of its own, so that what the commands write
  // (video.mp4, model.zip ...) stays out of the checkout.
  const cwd = mkdtempSync(join(tmpdir(), 'vg-docs-'));
  for (const entry of readdirSync(root)) if (entry !== '.git') symlinkSync(join(root, entry), join(cwd, entry));

  before(async () => {
    server = await startServerProcess(DOCS_GATEWAY_ENV);
  });
  after(() => {
    server?.child.kill('SIGTERM');
  });

  for (const file of DOCS) {
    const blocks = codeBlocks(readFileSync(join(root, file), 'utf8'));
    blocks.forEach((block, i) => {
      if (block.lang !== 'sh') return;
      const sample = blocks[i + 1]?.lang === 'json' ? blocks[i + 1] : undefined;
      test(`${file}:${block.line}`, async () => {
        const script = block.code.replaceAll('localhost:8080', server.url.replace('http://', ''));
        const result = await run('bash', ['-c', `set -eo pipefail\n${script}`], { cwd, maxBuffer: 64 << 20 }).catch((err: { code: number; stdout: string; stderr: string }) => {
          assert.fail(`${file}:${block.line} exited with ${err.code}:\n${err.stdout.slice(0, 2000)}\n${err.stderr.slice(0, 2000)}`);
        });
        if (!sample) return;
        const saved = /-o (\S+\.json)/.exec(block.code)?.[1];
        const printed = result.stdout.trim() === '' && saved ? readFileSync(join(cwd, saved), 'utf8') : result.stdout;
        assertSample(JSON.parse(sample.code), JSON.parse(printed));
      });
    });
  }
});
