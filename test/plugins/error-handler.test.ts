import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closedPort } from '../helpers/fake-backends.js';
import { problemOf, startGateway, type TestGateway } from '../helpers/gateway.js';

describe('errors the framework meets are problem+json', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ KEYPOINT_BACKENDS: `127.0.0.1:${await closedPort()}` });
  });
  after(() => gw.close());

  test('404, 405 and 415 answers are problem+json with the log id', async () => {
    for (const [init, url, status] of [
      [{}, '/nope', 404],
      [{ method: 'DELETE' }, '/v1/keypoints', 405],
      [{ method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b' }, '/v1/keypoints', 415],
    ] as const) {
      const res = await fetch(`${gw.url}${url}`, { ...init, headers: { ...('headers' in init ? init.headers : {}), 'x-tt-logid': `s${status}` } });
      assert.equal(res.status, status);
      assert.equal(res.headers.get('x-tt-logid'), `s${status}`);
      assert.equal((await problemOf(res)).logid, `s${status}`);
    }
  });
});
