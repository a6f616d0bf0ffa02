import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { hashKey } from '../../src/partners/api-keys.js';
import { UsageAnswer } from '../../src/schemas/usage.js';
import { fixture } from './fixtures.js';
import { expectAnswer, type TestGateway } from './gateway.js';

// What the usage tests share: two partners' keys, calls whose counts are known, and reading them back.

const coffee = fixture('coffee.png');
export const ACME = 'vg_acme_usage_test_key';
export const BETA = 'vg_beta_usage_test_key';
export const API_KEYS = `acme=${hashKey(ACME)},beta=${hashKey(BETA)}`;
export const today = () => new Date().toISOString().slice(0, 10);
const run = promisify(execFile);

/** `npm run usage` as an operator runs it, configured by `env`. */
export async function exported(env: Record<string, string>, format: 'csv' | 'json'): Promise<string> {
  const { stdout } = await run('npm', ['run', '--silent', 'usage', '--', '--from', today(), '--to', today(), '--format', format], { env: { ...process.env, ...env } });
  return stdout;
}

export interface Sent {
  status: number;
  bytesIn: number;
  bytesOut: number;
}

/** A keypoints call as a partner; what it sent and got, as usage should count it. */
export async function keypoints(gw: TestGateway, key: string, query = ''): Promise<Sent> {
  const res = await fetch(`${gw.url}/v1/keypoints${query}`, { method: 'POST', headers: { 'content-type': 'image/png', 'x-api-key': key }, body: coffee });
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(Number(res.headers.get('content-length')), body.length);
  return { status: res.status, bytesIn: coffee.length, bytesOut: body.length };
}

/** The usage a partner reads of today, as the `Usage` schema describes it. */
export async function usageOf(gw: TestGateway, key: string): Promise<UsageAnswer> {
  return expectAnswer(await fetch(`${gw.url}/v1/usage?from=${today()}&to=${today()}`, { headers: { 'x-api-key': key } }), UsageAnswer);
}

/** What usage must say for these calls on one route. */
export function expected(sent: Sent[]) {
  const ok = sent.filter((s) => s.status < 400);
  return {
    requests: sent.length,
    succeeded: ok.length,
    client_errors: sent.filter((s) => s.status >= 400 && s.status < 500).length,
    server_errors: sent.filter((s) => s.status >= 500).length,
    bytes_in: sent.reduce((n, s) => n + s.bytesIn, 0),
    bytes_out: sent.reduce((n, s) => n + s.bytesOut, 0),
    images: ok.length,
    jobs: 0,
  };
}

export const withoutBackendMs = (counts: Record<string, number> | undefined) => {
  const { backend_ms: _, ...rest } = counts ?? {};
  return rest;
};

/** Reads until the figures arrive (other replicas write theirs once a second), or fails with the last. */
export async function eventually(read: () => Promise<UsageAnswer>, want: object): Promise<UsageAnswer> {
  let last: UsageAnswer | undefined;
  for (let i = 0; i < 60; i++) {
    last = await read();
    const got = withoutBackendMs(last.days[0]?.routes['/v1/keypoints']);
    if (JSON.stringify(got) === JSON.stringify(want)) return last;
    await sleep(250);
  }
  assert.deepEqual(withoutBackendMs(last?.days[0]?.routes['/v1/keypoints']), want);
  return last!;
}
