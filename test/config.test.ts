import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';

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
] as const) {
  test(`${name}=${value} is refused with one line naming the variable`, () => {
    assert.throws(
      () => loadConfig({ [name]: value }),
      (err: unknown) => err instanceof ConfigError && err.message.startsWith(`invalid configuration: ${name}=`) && !err.message.includes('\n'),
    );
  });
}
