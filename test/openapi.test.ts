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

  test('every JSON answer and JSON body has an example; partner routes list the key and limit errors and the security schemes', () => {
    const doc = JSON.parse(committed) as {
      paths: Record<string, Record<string, { security?: unknown[]; requestBody?: { content: Record<string, Record<string, unknown>> }; responses: Record<string, { content?: Record<string, Record<string, unknown>> }> }>>;
      components: { securitySchemes: Record<string, unknown> };
      security: unknown[];
    };
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['apiKeyHeader', 'bearerAuth']);
    assert.equal(doc.security.length, 2);
    const hasExample = (media: Record<string, unknown>) => 'example' in media || 'examples' in media || JSON.stringify(media.schema ?? {}).includes('"example"');
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const [status, response] of Object.entries(op.responses)) {
          for (const [type, media] of Object.entries(response.content ?? {})) {
            if (type.includes('json')) assert.ok(hasExample(media), `${method} ${path} ${status} ${type} has an example`);
          }
        }
        for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
          if (type.includes('json')) assert.ok(hasExample(media), `${method} ${path} body ${type} has an example`);
        }
        if (path.startsWith('/v1/')) {
          for (const status of ['401', '403', '429']) assert.ok(op.responses[status], `${method} ${path} documents ${status}`);
        } else {
          assert.deepEqual(op.security, [], `${method} ${path} needs no key`);
        }
      }
    }
  });

  test('Swagger UI is served at /docs', async () => {
    const res = await fetch(`${gw.url}/docs/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /swagger-ui/i);
    const init = await fetch(`${gw.url}/docs/static/swagger-ui-bundle.js`);
    assert.equal(init.status, 200);
  });
});
