import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, loadKeys } from '../../src/config/load.js';
import { hashKey, loadKeyRing } from '../../src/partners/api-keys.js';

const ACME = 'vg_acme-key-for-tests-0123456789';
const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

test('keys are configured as hashes: a plain key, a bad file or no key at all stops the start naming the variable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vg-keys-'));
  const bad = (content: string) => {
    const file = join(dir, `${Math.random()}.json`);
    writeFileSync(file, content);
    return file;
  };
  const refused = (env: Record<string, string>, message: RegExp) =>
    assert.throws(() => loadKeys(loadConfig(env)), (err: unknown) => err instanceof ConfigError && message.test(err.message));
  refused({ API_KEYS_FILE: bad('{"partners":{"acme":{"keys":["plain-key"]}}}') }, /API_KEYS_FILE .*sha256/);
  refused({ API_KEYS_FILE: bad('not json') }, /API_KEYS_FILE/);
  refused({ API_KEYS_FILE: join(dir, 'missing.json') }, /API_KEYS_FILE .*ENOENT/);
  refused({ API_KEYS: 'acme=plain-key' }, /API_KEYS: .*sha256/);
  refused({ API_KEYS_FILE: bad('{"partners":{}}') }, /no keys/);
  assert.equal(loadKeys(loadConfig({ API_KEYS: `acme=${hashKey(ACME)}` }))!.verify(ACME)!.toString(), '[object Object]');
  assert.equal(loadKeys(loadConfig({})), undefined, 'off by default');
});

test('the keys file refuses a webhook that is not http(s) or whose secret is not whsec_ with enough bytes', () => {
  const file = (webhook: unknown) => {
    const path = join(mkdtempSync(join(tmpdir(), 'vg-keys-')), 'keys.json');
    writeFileSync(path, JSON.stringify({ partners: { acme: { keys: [hashKey('k')], webhook } } }));
    return path;
  };
  assert.throws(() => loadKeyRing(file({ url: 'ftp://example.com/hook', secret: secret() }), undefined), /webhook\.url: must be an http/);
  assert.throws(() => loadKeyRing(file({ url: 'https://example.com/hook', secret: 'plain' }), undefined), /webhook\.secret: must be "whsec_"/);
  assert.throws(() => loadKeyRing(file({ url: 'https://example.com/hook', secret: 'whsec_c2hvcnQ=' }), undefined), /at least 24/);
  assert.equal(loadKeyRing(file({ url: 'https://example.com/hook', secret: 'whsec_' + 'A'.repeat(32) }), undefined)!.partners.get('acme')!.webhook!.url, 'https://example.com/hook');
});
