import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig, loadKeys } from '../../src/config/load.js';

test('defaults: port 8080 on all interfaces, 10 s keypoint timeout, framed binary, backends unset', () => {
  const c = loadConfig({});
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.port, 8080);
  assert.equal(c.caller, 'visiongate');
  assert.equal(c.backends.keypoint.timeoutMs, 10_000);
  assert.equal(c.backends.keypoint.transport, 'framed');
  assert.equal(c.backends.keypoint.protocol, 'binary');
  assert.equal(c.backends.keypoint.instances, undefined);
});

test('KEYPOINT_BACKENDS takes a comma-separated host:port list, IPv6 in brackets', () => {
  const c = loadConfig({ KEYPOINT_BACKENDS: 'a.example:9090, 10.0.0.2:9091,[::1]:9092', KEYPOINT_TIMEOUT_MS: '2500' });
  assert.deepEqual(c.backends.keypoint.instances, [
    { host: 'a.example', port: 9090 },
    { host: '10.0.0.2', port: 9091 },
    { host: '::1', port: 9092 },
  ]);
  assert.equal(c.backends.keypoint.timeoutMs, 2500);
});

test('an empty variable counts as unset', () => {
  assert.equal(loadConfig({ PORT: '' }).port, 8080);
});

test('in production every *_BACKENDS is required, unless REFERENCE_BACKENDS=true asks for the stand-ins', () => {
  const all = { KEYPOINT_BACKENDS: 'k:1', IMAGE3D_BACKENDS: 'i:1', ARSCAN_BACKENDS: 'a:1' };
  assert.throws(
    () => loadConfig({ NODE_ENV: 'production', KEYPOINT_BACKENDS: 'k:1', IMAGE3D_BACKENDS: 'i:1' }),
    (err: unknown) => err instanceof ConfigError && /^invalid configuration: ARSCAN_BACKENDS="": must be set with NODE_ENV=production \(or REFERENCE_BACKENDS=true/.test(err.message),
  );
  assert.equal(loadConfig({ NODE_ENV: 'production', ...all }).backends.arscan.instances![0]!.host, 'a');
  assert.equal(loadConfig({ NODE_ENV: 'production', REFERENCE_BACKENDS: 'true' }).backends.keypoint.instances, undefined);
  // Outside production the demo needs nothing; REFERENCE_BACKENDS=false asks for real ones there too.
  assert.equal(loadConfig({}).backends.keypoint.reference, false);
  assert.throws(() => loadConfig({ REFERENCE_BACKENDS: 'false' }), /KEYPOINT_BACKENDS="": must be set with REFERENCE_BACKENDS=false/);
});

test('TRUST_PROXY takes addresses, CIDRs and proxy-addr names, or a hop count; CORS_ORIGINS takes origins', () => {
  assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,fd00::/8,loopback' }).trustProxy, ['10.0.0.0/8', '127.0.0.1', 'fd00::/8', 'loopback']);
  assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
  assert.equal(loadConfig({}).trustProxy, undefined);
  assert.deepEqual(loadConfig({ CORS_ORIGINS: 'https://app.example.com, http://127.0.0.1:3000/' }).corsOrigins, ['https://app.example.com', 'http://127.0.0.1:3000']);
  assert.deepEqual(loadConfig({}).corsOrigins, []);
});

for (const [name, value] of [
  ['PORT', 'eighty'],
  ['PORT', '70000'],
  ['KEYPOINT_BACKENDS', 'localhost'],
  ['KEYPOINT_BACKENDS', 'localhost:0'],
  ['KEYPOINT_TIMEOUT_MS', '-5'],
  ['KEYPOINT_TRANSPORT', 'http'],
  ['KEYPOINT_PROTOCOL', 'json'],
  ['MAX_IMAGE_BYTES', '1.5'],
  ['LOG_LEVEL', 'loud'],
  ['TRUST_PROXY', 'true'],
  ['TRUST_PROXY', '10.0.0.0/33'],
  ['TRUST_PROXY', 'nginx'],
  ['CORS_ORIGINS', '*'],
  ['CORS_ORIGINS', 'https://app.example.com/path'],
  ['REFERENCE_BACKENDS', 'yes'],
] as const) {
  test(`${name}=${value} is refused with one line naming the variable`, () => {
    assert.throws(
      () => loadConfig({ [name]: value }),
      (err: unknown) => err instanceof ConfigError && err.message.startsWith(`invalid configuration: ${name}=`) && !err.message.includes('\n'),
    );
  });
}

test('every invalid variable is reported at once, one line each, naming it', () => {
  assert.throws(
    () => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', ARSCAN_TIMEOUT_MS: '0', IMAGE3D_BACKENDS: 'nowhere' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const names = err.message.split('\n').map((line) => /^invalid configuration: (\w+)=/.exec(line)?.[1]);
      assert.deepEqual(names.sort(), ['ARSCAN_TIMEOUT_MS', 'IMAGE3D_BACKENDS', 'LOG_LEVEL', 'PORT']);
      return true;
    },
  );
});

test("each backend's variables land in its own section, with its own default timeout", () => {
  const c = loadConfig({ ARSCAN_MAX_QUEUE: '7', IMAGE3D_PROTOCOL: 'compact' });
  assert.equal(c.backends.arscan.name, 'arscan');
  assert.equal(c.backends.arscan.maxQueue, 7);
  assert.equal(c.backends.arscan.timeoutMs, 300_000);
  assert.equal(c.backends.image3d.protocol, 'compact');
  assert.equal(c.backends.keypoint.maxQueue, 64);
  // The type is the schema's output: a misspelt key does not compile.
  // @ts-expect-error timeoutMS is not a key of a backend's config
  assert.equal(c.backends.keypoint.timeoutMS, undefined);
});

test('parsing reads no file: the keys file is read by loadKeys, which names the variable', () => {
  const config = loadConfig({ API_KEYS_FILE: '/nonexistent/keys.json' });
  assert.equal(config.apiKeys.file, '/nonexistent/keys.json');
  assert.throws(() => loadKeys(config), (err: unknown) => err instanceof ConfigError && /^invalid configuration: API_KEYS_FILE .*ENOENT/.test(err.message));
});
