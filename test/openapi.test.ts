import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { renderOpenApi } from '../src/openapi.js';
import { closedPort } from './helpers/fake-backends.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const committed = readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8');

describe('the OpenAPI document', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ KEYPOINT_BACKENDS: `127.0.0.1:${await closedPort()}` });
  });
  after(() => gw.close());

  test('openapi/openapi.json is what the route schemas generate (run `npm run gen:openapi` if not)', async () => {
    assert.equal(await renderOpenApi(), committed);
  });

  test('GET /openapi.json serves the same document', async () => {
    const res = await fetch(`${gw.url}/openapi.json`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), JSON.parse(committed));
  });

  test('documents every input form of /v1/keypoints, with a file upload and a working JSON example', () => {
    const doc = JSON.parse(committed) as {
      paths: Record<string, Record<string, { requestBody: { content: Record<string, { schema: { properties?: Record<string, { format?: string; example?: string }> } }> } }>>;
    };
    const content = doc.paths['/v1/keypoints']!.post!.requestBody.content;
    assert.deepEqual(Object.keys(content).sort(), ['application/json', 'image/jpeg', 'image/png', 'multipart/form-data']);
    assert.equal(content['multipart/form-data']!.schema.properties!.image!.format, 'binary');
    const example = content['application/json']!.schema.properties!.image!.example!;
    assert.equal(Buffer.from(example, 'base64').subarray(0, 3).toString('hex'), 'ffd8ff');
  });

  test('Swagger UI is served at /docs', async () => {
    const res = await fetch(`${gw.url}/docs/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /swagger-ui/i);
    const init = await fetch(`${gw.url}/docs/static/swagger-ui-bundle.js`);
    assert.equal(init.status, 200);
  });
});
