// The gateway and the reference backends are two units: the backends' packages (sharp, the
// face model, the encoders, ~42 MB) are theirs alone, and the gateway's production install
// (`npm ci --omit=dev --workspaces=false`, its image) holds none of them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { readRepoFile, repoPath } from '../helpers/deploy-files.js';
import { requireTool } from '../helpers/tools.js';

interface Manifest {
  workspaces?: string[];
  dependencies: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const gateway = JSON.parse(readRepoFile('package.json')) as Manifest;
const backends = JSON.parse(readRepoFile('src/backends/package.json')) as Manifest & { name: string };
const backendOnly = Object.keys(backends.dependencies);

/** `@scope/name` or `name` of an import specifier such as `@scope/name/sub` or `name/sub`. */
const packageOf = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

test('the backend-only packages are the reference backends\' dependencies, pinned, and none of the gateway\'s', () => {
  assert.deepEqual(gateway.workspaces, ['src/backends']);
  assert.ok(backendOnly.includes('sharp') && backendOnly.includes('@vladmandic/human'));
  for (const [name, version] of Object.entries(backends.dependencies)) assert.match(version, /^\d+\.\d+\.\d+$/, `${name} pinned`);
  for (const name of backendOnly) {
    assert.equal(gateway.dependencies[name], undefined, `${name} is no dependency of the gateway`);
    // npm marks a package dev (left out by --omit=dev) only when no production dependency needs
    // it: listed here too, it would come back into the gateway's production install.
    assert.equal(gateway.devDependencies?.[name], undefined, `${name} is no devDependency of the root either`);
  }
});

test('the gateway\'s code imports its own production dependencies only: no backend package, no file of src/backends or src/shared', async () => {
  // esbuild walks the module graph from the entry point as Node would load it (static and
  // literal dynamic imports); the reference backends are forked by path, never imported.
  const { metafile } = await build({
    entryPoints: [repoPath('src/server.ts')],
    absWorkingDir: repoPath(''),
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  const files = Object.keys(metafile.inputs);
  assert.ok(files.includes('src/app.ts') && files.includes('src/reference-backends.ts'), 'the whole gateway was walked');
  assert.deepEqual(files.filter((f) => /^src\/(backends|shared)\//.test(f)), []);
  const imported = new Set(
    Object.values(metafile.inputs)
      .flatMap((input) => input.imports)
      .filter((i) => i.external && !isBuiltin(i.path))
      .map((i) => packageOf(i.path)),
  );
  assert.ok(imported.has('fastify') && imported.has('thrift'));
  for (const name of imported) assert.ok(name in gateway.dependencies, `${name}, imported by the gateway, is one of its production dependencies`);
});

test('npm installs none of the backend-only packages for the gateway, and all of them for the reference backends', { skip: requireTool('npm', 'npm') }, async (t) => {
  // npm resolves both installs from the lockfile alone (--dry-run --offline): nothing is
  // downloaded or written outside a temporary copy of the three manifests.
  const dir = mkdtempSync(join(tmpdir(), 'vg-packages-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const file of ['package.json', 'package-lock.json', 'src/backends/package.json']) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    cpSync(repoPath(file), join(dir, file));
  }
  const added = async (...flags: string[]) => {
    const { stdout } = await promisify(execFile)('npm', ['ci', '--omit=dev', ...flags, '--dry-run', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: dir,
      maxBuffer: 16 * 1024 * 1024,
    });
    return new Set([...stdout.matchAll(/^add (\S+) \S+$/gm)].map((m) => m[1]!));
  };
  let gatewayInstall: Set<string>;
  let backendsInstall: Set<string>;
  try {
    [gatewayInstall, backendsInstall] = [await added('--workspaces=false'), await added()];
  } catch (err) {
    // Offline, npm reads what it needs from its cache, which any `npm ci` of this repository fills.
    if (!/ENOTCACHED|only-if-cached/.test(String((err as { stderr?: string }).stderr))) throw err;
    if (process.env.VG_REQUIRE_ALL === '1') throw err;
    return t.skip('npm\'s cache lacks the locked packages: run npm ci first');
  }
  assert.ok(gatewayInstall.has('fastify') && gatewayInstall.has('thrift'), 'the gateway\'s own packages');
  for (const name of backendOnly) {
    assert.ok(!gatewayInstall.has(name), `${name} is left out of the gateway's production install`);
    assert.ok(backendsInstall.has(name), `${name} is in the reference backends' install`);
  }
  assert.ok(backendsInstall.has(backends.name), 'the workspace itself');
  assert.ok(!gatewayInstall.has(backends.name));
  for (const name of gatewayInstall) assert.ok(backendsInstall.has(name), `${name}: the backends' install is a superset (they import the gateway's Thrift code)`);
});
