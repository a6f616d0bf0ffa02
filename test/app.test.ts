import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Problem as ProblemSchema } from '../src/schemas/problem.js';
import { closedPort } from './helpers/fake-backends.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

describe('what the HTTP server meets before any route: problem+json too', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ KEYPOINT_BACKENDS: `127.0.0.1:${await closedPort()}` });
  });
  after(() => gw.close());

  /** What the gateway answers to `raw`, up to its closing the connection. */
  const rawExchange = (raw: string) =>
    new Promise<string>((resolve) => {
      const socket = net.connect(gw.port, '127.0.0.1');
      socket.write(raw);
      let out = '';
      socket.on('data', (c: Buffer) => (out += c.toString()));
      socket.on('close', () => resolve(out));
    });

  const problemIn = (text: string) => ProblemSchema.parse(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)));

  test('malformed HTTP gets a problem+json 400 with a log id, not an HTML page', async () => {
    const text = await rawExchange('GET /healthz HTTP/1.1\r\nno colon in this header\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(text, /X-Tt-Logid: \d{14}/);
    assert.equal(problemIn(text).code, 'BAD_REQUEST');
  });

  // CONNECT once got no answer at all (Node drops it when nobody listens for it).
  for (const [attack, raw] of [
    ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'],
    ['an unknown method', 'GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n'],
  ] as const) {
    test(`${attack} gets a problem+json 501, and the next request is served`, async () => {
      const text = await rawExchange(raw);
      assert.match(text, /^HTTP\/1\.1 501 Not Implemented\r\n/);
      assert.match(text, /Content-Type: application\/problem\+json/);
      const problem = problemIn(text);
      assert.equal(problem.code, 'METHOD_NOT_IMPLEMENTED');
      assert.equal(problem.status, 501);
      assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    });
  }
});
