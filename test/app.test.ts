import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Problem as ProblemSchema } from '../src/schemas/problem.js';
import { closedPort } from './helpers/fake-backends.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { RawRequest } from './helpers/raw-http.js';

describe('what the HTTP server meets before any route: problem+json too', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ KEYPOINT_BACKENDS: `127.0.0.1:${await closedPort()}` });
  });
  after(() => gw.close());

  /** The gateway's answer to `raw`, written on a socket of its own: its head, and its body as a problem. */
  const exchange = async (raw: string) => {
    const answer = await new RawRequest(gw.port, raw).answer;
    assert.ok(answer, 'an answer, not a closed connection');
    return { head: answer.head, problem: ProblemSchema.parse(JSON.parse(answer.body)) };
  };

  test('malformed HTTP gets a problem+json 400 with a log id, not an HTML page', async () => {
    const { head, problem } = await exchange('GET /healthz HTTP/1.1\r\nno colon in this header\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(head, /X-Tt-Logid: \d{14}/);
    assert.equal(problem.code, 'BAD_REQUEST');
  });

  // fastify's router answered these itself: its own JSON, no log id, the URL echoed whole.
  for (const [what, path, status, code] of [
    ['a malformed percent-escape', '/v1/keypoints%zz<script>', 400, 'BAD_REQUEST'],
    ['a path parameter past 100 characters', `/v1/jobs/${'a'.repeat(101)}`, 404, 'NOT_FOUND'],
  ] as const) {
    test(`a URL with ${what} gets the contract's problem+json with a log id, and the URL is not echoed`, async () => {
      const { head, problem } = await exchange(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} `));
      assert.match(head, /content-type: application\/problem\+json/i);
      assert.match(head, /x-tt-logid: \d{14}/i);
      assert.equal(problem.code, code);
      assert.equal(problem.logid, /x-tt-logid: (\S+)/i.exec(head)?.[1]);
      assert.ok(!problem.message.includes(path.slice(9)), problem.message);
      assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    });
  }

  // CONNECT once got no answer at all (Node drops it when nobody listens for it).
  for (const [attack, raw] of [
    ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'],
    ['an unknown method', 'GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n'],
  ] as const) {
    test(`${attack} gets a problem+json 501, and the next request is served`, async () => {
      const { head, problem } = await exchange(raw);
      assert.match(head, /^HTTP\/1\.1 501 Not Implemented\r\n/);
      assert.match(head, /Content-Type: application\/problem\+json/);
      assert.equal(problem.code, 'METHOD_NOT_IMPLEMENTED');
      assert.equal(problem.status, 501);
      assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    });
  }
});
