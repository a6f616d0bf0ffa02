import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InstanceHealth } from '../../src/rpc/instance-health.js';

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('ejected after N failures in a row, for a backoff that doubles up to the cap', () => {
  const c = clock();
  const h = new InstanceHealth({ afterFailures: 3, baseMs: 1000, maxMs: 3000 }, c.now);
  assert.equal(h.failed(false), undefined);
  assert.equal(h.failed(false), undefined);
  assert.equal(h.failed(false), 1000);
  assert.equal(h.state(), 'ejected');
  assert.equal(h.admits(), false);
  c.advance(1000);
  assert.equal(h.state(), 'half-open');
  h.callStarted();
  assert.equal(h.admits(), false, 'one probe at a time');
  assert.equal(h.failed(false), 2000, 'a failed probe ejects again, for longer');
  c.advance(2000);
  h.callStarted();
  assert.equal(h.failed(false), 3000);
  c.advance(3000);
  h.callStarted();
  assert.equal(h.failed(false), 3000, 'capped');
  c.advance(3000);
  h.callStarted();
  h.succeeded();
  assert.equal(h.state(), 'up');
  assert.equal(h.failed(false), undefined, 'back to counting from zero');
});

test('a success in between resets the count', () => {
  const h = new InstanceHealth({ afterFailures: 2, baseMs: 10, maxMs: 10 });
  h.failed(false);
  h.succeeded();
  assert.equal(h.failed(false), undefined);
  assert.equal(h.state(), 'up');
});

test('a refused connection ejects at once; failures of calls begun before the ejection do not extend it', () => {
  const c = clock();
  const h = new InstanceHealth({ afterFailures: 5, baseMs: 1000, maxMs: 60_000 }, c.now);
  assert.equal(h.failed(true), 1000);
  assert.equal(h.failed(false), undefined);
  assert.equal(h.failed(true), undefined);
  assert.equal(h.msUntilRetry(), 1000);
});

test('a probe that ends without a verdict (shed before sending) frees the probe slot', () => {
  const c = clock();
  const h = new InstanceHealth({ afterFailures: 1, baseMs: 1000, maxMs: 1000 }, c.now);
  h.failed(false);
  c.advance(1000);
  h.callStarted();
  assert.equal(h.admits(), false);
  h.inconclusive();
  assert.equal(h.admits(), true);
});
