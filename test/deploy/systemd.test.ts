import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config/load.js';
import { milliseconds, readRepoFile as read } from '../helpers/deploy-files.js';
import { requireTool } from '../helpers/tools.js';

/**
 * A unit file's settings by section, each key with all its values in order (systemd allows a
 * key several times). Written here since the unit format is a few lines of INI that the ini
 * packages get wrong on exactly that: repeated keys.
 */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let current: Record<string, string[]> | undefined;
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) sections[section[1]!] = current = {};
    else {
      const eq = line.indexOf('=');
      assert.ok(current && eq > 0, `a setting inside a section: ${line}`);
      (current[line.slice(0, eq)] ??= []).push(line.slice(eq + 1));
    }
  }
  return sections;
}

/** KEY=VALUE lines, as systemd's EnvironmentFile= reads them. */
const parseEnv = (text: string) =>
  Object.fromEntries(text.split('\n').filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

const unit = parseUnit(read('deploy/systemd/visiongate.service'));
const service = unit.Service!;
const one = (key: string) => {
  assert.equal(service[key]?.length, 1, `one ${key}=`);
  return service[key]![0]!;
};

test('systemd unit: runs node itself, as npm start does, not npm', () => {
  const [program, ...args] = one('ExecStart').split(/\s+/);
  assert.match(program!, /^\/\S+\/node$/, 'an absolute path to node');
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
  // The start script execs node (so npm's signal reaches the server): the same command, without npm and its build.
  assert.equal(`exec ${['node', ...args].join(' ')}`, pkg.scripts.start);
  assert.doesNotMatch(one('ExecStart'), /\bnpm\b/);
  assert.equal(one('Type'), 'simple');
  assert.equal(one('Restart'), 'on-failure');
  assert.ok(unit.Install?.WantedBy?.includes('multi-user.target'));
});

test('systemd unit: stop sends SIGTERM to the gateway and waits longer than its drain', () => {
  assert.equal(one('KillSignal'), 'SIGTERM');
  // mixed: SIGTERM to the main process only; SIGKILL to whatever is left only after the timeout.
  assert.equal(one('KillMode'), 'mixed');
  // The example environment file, and the configuration's defaults for what it leaves out.
  const env = { ...parseEnv(read('deploy/systemd/visiongate.env')), ...Object.fromEntries(service.Environment!.map((e) => e.split('='))) };
  assert.equal(env.NODE_ENV, 'production');
  for (const config of [loadConfig(env), loadConfig({ ...env, DRAIN_DELAY_MS: '', DRAIN_TIMEOUT_MS: '' })]) {
    assert.ok(milliseconds(one('TimeoutStopSec')) > config.drainDelayMs + config.drainTimeoutMs, `TimeoutStopSec > ${config.drainDelayMs} + ${config.drainTimeoutMs} ms`);
  }
  assert.equal(one('EnvironmentFile'), '/etc/visiongate/visiongate.env');
  // ProtectSystem=strict leaves only the StateDirectory writable: the jobs go there.
  assert.equal(one('ProtectSystem'), 'strict');
  assert.ok(loadConfig(env).jobs.storeDir.startsWith(`/var/lib/${one('StateDirectory')}/`), 'JOB_STORE_DIR in the StateDirectory');
  // Also what broke: usage went to its default under the read-only WorkingDirectory once REDIS_URL was removed.
  assert.ok(loadConfig({ ...env, REDIS_URL: '' }).usage.dir.startsWith(`/var/lib/${one('StateDirectory')}/`), 'USAGE_DIR in the StateDirectory');
});

test('systemd unit: systemd itself reads every setting', { skip: requireTool('systemd-analyze', 'systemd') }, async () => {
  // With this machine's node in ExecStart, which systemd checks is there.
  const dir = mkdtempSync(join(tmpdir(), 'vg-unit-'));
  const file = join(dir, 'visiongate.service');
  writeFileSync(file, read('deploy/systemd/visiongate.service').replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`));
  // It reports a setting it cannot parse on stderr, and goes on.
  const { stderr } = await promisify(execFile)('systemd-analyze', ['verify', file]);
  assert.equal(stderr, '');
});
