import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { renderClientTypes } from '../scripts/openapi-types.js';
import { renderOpenApi } from '../src/openapi.js';
import { hashKey } from '../src/partners/api-keys.js';
import { closedPort } from './helpers/fake-backends.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const committed = readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8');
const run = promisify(execFile);

interface Schema {
  $ref?: string;
  allOf?: Schema[];
  oneOf?: Schema[];
  properties?: Record<string, { format?: string; example?: unknown }>;
}
interface Media {
  schema?: Schema;
  example?: unknown;
  examples?: unknown;
}
interface Operation {
  operationId?: string;
  security?: unknown[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
}
const doc = JSON.parse(committed) as {
  openapi: string;
  info: { license: { name: string } };
  servers: unknown[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, unknown> };
  security: unknown[];
};
const operations = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
/** A schema with its `$ref` followed (components only). */
const resolve = (schema: Schema): Schema => (schema.$ref ? resolve(doc.components.schemas[schema.$ref.split('/').pop()!]!) : schema);
/** The schemas a media type may hold: itself, or each of its `oneOf`. */
const alternatives = (schema: Schema): Schema[] => schema.oneOf ?? [schema];
/** A body's properties, its options' included (bodies are `allOf` the options and the rest). */
const bodyProperties = (schema: Schema): NonNullable<Schema['properties']> => {
  const s = resolve(schema);
  return Object.assign({}, s.properties, ...(s.allOf ?? []).map(bodyProperties));
};

describe('the OpenAPI document', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ KEYPOINT_BACKENDS: `127.0.0.1:${await closedPort()}` });
  });
  after(() => gw.close());

  test('openapi/openapi.json is what the route schemas generate (run `npm run gen:openapi` if not)', async () => {
    assert.equal(await renderOpenApi(), committed);
  });

  test("examples/visiongate-api.d.ts, the client's types, is what openapi-typescript makes of it (`npm run gen:openapi`)", async () => {
    assert.equal(await renderClientTypes(committed), readFileSync(new URL('../examples/visiongate-api.d.ts', import.meta.url), 'utf8'));
  });

  test('GET /openapi.json serves the same document, without the API keys where none are asked for', async () => {
    const res = await fetch(`${gw.url}/openapi.json`);
    assert.equal(res.status, 200);
    const { security: _, components: { securitySchemes: __, ...components }, ...rest } = JSON.parse(committed) as { security: unknown; components: { securitySchemes: unknown } };
    assert.deepEqual(await res.json(), { ...rest, components });
    const withKeys = await startGateway({ KEYPOINT_BACKENDS: `127.0.0.1:${await closedPort()}`, API_KEYS: `acme=${hashKey('vg_openapi-test-key-0123456789')}` });
    try {
      assert.deepEqual(await (await fetch(`${withKeys.url}/openapi.json`)).json(), JSON.parse(committed));
    } finally {
      await withKeys.close();
    }
  });

  test('documents every input form of /v1/keypoints, with a file upload and a working JSON example', () => {
    const content = doc.paths['/v1/keypoints']!.post!.requestBody!.content;
    assert.deepEqual(Object.keys(content).sort(), ['application/json', 'image/jpeg', 'image/png', 'multipart/form-data']);
    const image = (type: string) => bodyProperties(content[type]!.schema!).image!;
    assert.equal(image('multipart/form-data').format, 'binary');
    assert.equal(Buffer.from(String(image('application/json').example), 'base64').subarray(0, 3).toString('hex'), 'ffd8ff');
  });

  test('every JSON answer and JSON body has an example; partner routes list the key and limit errors and the security schemes', () => {
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['apiKeyHeader', 'bearerAuth']);
    assert.equal(doc.security.length, 2);
    const hasExample = (media: Media) => 'example' in media || 'examples' in media || alternatives(media.schema ?? {}).every((s) => JSON.stringify([resolve(s), bodyProperties(s)]).includes('"example"'));
    for (const { path, method, op } of operations()) {
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
  });

  test('every operation that takes a body documents 408 REQUEST_TIMEOUT: a body too slow is cut off on any route', () => {
    const withBody = operations().filter(({ op }) => op.requestBody);
    assert.ok(withBody.length >= 3);
    for (const { path, method, op } of withBody) {
      const examples = Object.keys((op.responses['408']?.content?.['application/problem+json']?.examples ?? {}) as Record<string, unknown>);
      assert.deepEqual(examples, ['REQUEST_TIMEOUT'], `${method} ${path}`);
    }
  });

  test('every operation has its own operationId, and its JSON answers and bodies are named component schemas', () => {
    const ids = operations().map(({ path, method, op }) => {
      assert.match(op.operationId ?? '', /^[a-z][A-Za-z0-9]+$/, `${method} ${path} has an operationId`);
      const media = [...Object.values(op.responses).flatMap((r) => Object.entries(r.content ?? {})), ...Object.entries(op.requestBody?.content ?? {})];
      for (const [type, m] of media) {
        if (!type.includes('json') && type !== 'multipart/form-data') continue;
        for (const s of alternatives(m.schema ?? {})) assert.match(s.$ref ?? '', /^#\/components\/schemas\/\w+$/, `${method} ${path} ${type} is a component`);
      }
      return op.operationId;
    });
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.servers.length > 0 && doc.info.license.name, 'servers and a licence');
  });

  test("Redocly's recommended rules find nothing to report (offline: no telemetry, no update check)", async () => {
    const cli = fileURLToPath(new URL('../node_modules/@redocly/cli/bin/cli.js', import.meta.url));
    const file = fileURLToPath(new URL('../openapi/openapi.json', import.meta.url));
    const { stdout } = await run(process.execPath, [cli, 'lint', '--extends=recommended', '--format=json', file], {
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    });
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { totals: { errors: number; warnings: number }; problems: Array<{ ruleId: string; message: string }> };
    assert.deepEqual(report.problems.map((p) => `${p.ruleId}: ${p.message}`), []);
    assert.deepEqual(report.totals, { ...report.totals, errors: 0, warnings: 0 });
  });

  test('Swagger UI is served at /docs', async () => {
    const res = await fetch(`${gw.url}/docs/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /swagger-ui/i);
    const init = await fetch(`${gw.url}/docs/static/swagger-ui-bundle.js`);
    assert.equal(init.status, 200);
  });
});
