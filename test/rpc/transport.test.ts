import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMessageReader } from '../../src/rpc/transport.js';
import { frameHeader } from '../helpers/fake-backends.js';

test('a frame whose first chunk holds less than its 4-byte header is joined once, not once per chunk (60 MB took seconds of copying)', (t) => {
  const body = Buffer.alloc(20 * 2 ** 20, 7);
  const frame = Buffer.concat([frameHeader(body.length), body]);
  let copied = 0;
  const concat = Buffer.concat;
  t.mock.method(Buffer, 'concat', (list: readonly Uint8Array[], length?: number) => {
    const joined = concat(list, length);
    copied += joined.length;
    return joined;
  });
  let messages = 0;
  const reader = createMessageReader('framed', 'binary', { bytes: 64 * 2 ** 20, setting: 'TEST_MAX_REPLY_BYTES' }, () => messages++);
  reader.push(frame.subarray(0, 1));
  for (let at = 1; at < frame.length; at += 65536) reader.push(frame.subarray(at, at + 65536));
  assert.equal(messages, 1);
  assert.ok(copied <= 2 * frame.length, `${copied} bytes copied for a ${frame.length}-byte frame`);
});
