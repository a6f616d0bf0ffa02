import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallerGoneSignal } from '../../src/rpc/caller-signal.js';

test('a caller-gone signal calls each listener still there once, on the first abort, as an AbortSignal does', () => {
  const signal = new CallerGoneSignal();
  const heard: string[] = [];
  const removed = () => heard.push('removed');
  signal.addEventListener('abort', () => heard.push('a'), { once: true });
  signal.addEventListener('abort', removed);
  signal.addEventListener('abort', () => heard.push('b'));
  signal.removeEventListener('abort', removed);
  assert.equal(signal.aborted, false);
  signal.abort();
  signal.abort();
  assert.equal(signal.aborted, true);
  signal.addEventListener('abort', () => heard.push('late'));
  assert.deepEqual(heard, ['a', 'b']);

  // The same sequence on Node's own, for the comparison.
  const controller = new AbortController();
  const theirs: string[] = [];
  const theirRemoved = () => theirs.push('removed');
  controller.signal.addEventListener('abort', () => theirs.push('a'), { once: true });
  controller.signal.addEventListener('abort', theirRemoved);
  controller.signal.addEventListener('abort', () => theirs.push('b'));
  controller.signal.removeEventListener('abort', theirRemoved);
  controller.abort();
  controller.abort();
  controller.signal.addEventListener('abort', () => theirs.push('late'));
  assert.deepEqual(theirs, heard);
});
