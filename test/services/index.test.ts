import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { backendVariables } from '../../src/config/schema.js';
import { Readiness } from '../../src/schemas/health.js';
import { envPrefix } from '../../src/services/descriptor.js';
import { BACKEND_NAMES, SERVICES } from '../../src/services/index.js';
import { closedPort } from '../helpers/fake-backends.js';
import { startGateway } from '../helpers/gateway.js';

const repo = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, repo), 'utf8');
const MiB = 1024 * 1024;

/** What this test reads of the OpenAPI document: its tags, and each operation's. */
const OpenApiTags = z.object({
  tags: z.array(z.object({ name: z.string() })),
  paths: z.record(z.string(), z.record(z.string(), z.object({ tags: z.array(z.string()).optional() }))),
});

/** The rows of docs/configuration.md's tables, by the variables named in their first cell. */
function configurationRows(): Array<{ names: string[]; text: string }> {
  return read('docs/configuration.md')
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => ({ names: [...(line.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!), text: line }));
}

test('every service variable is documented in docs/configuration.md, with each service named and its defaults', () => {
  const rows = configurationRows();
  const rowOf = (variable: string, name: string) =>
    rows.find((r) => r.names.includes(variable) || r.names.includes(`<B>_${variable.slice(envPrefix(name).length)}`));
  for (const service of SERVICES) {
    for (const variable of backendVariables(service)) assert.ok(rowOf(variable, service.name), `${variable} is not in docs/configuration.md`);
    const upper = service.name.toUpperCase();
    assert.match(rowOf(`${upper}_BACKENDS`, service.name)!.text, new RegExp(`\`${upper}\``), `the <B>_BACKENDS row does not list ${upper}`);
    const timeout = rowOf(`${upper}_TIMEOUT_MS`, service.name)!.text;
    assert.ok(timeout.includes(service.name) && timeout.includes(String(service.defaults.timeoutMs)), `the timeout row lacks ${service.name}'s default`);
    const reply = rowOf(`${upper}_MAX_REPLY_BYTES`, service.name)!.text;
    assert.ok(reply.includes(`${service.name} ${service.defaults.maxReplyBytes / MiB} MiB`), `the reply-cap row lacks ${service.name}'s default`);
  }
});

test('readiness, the OpenAPI tags and the metrics labels list every service, each with its routes', async (t) => {
  const down = `127.0.0.1:${await closedPort()}`;
  const gw = await startGateway(Object.fromEntries(SERVICES.map((s) => [`${envPrefix(s.name)}BACKENDS`, down])));
  t.after(() => gw.close());

  const ready = await fetch(`${gw.url}/readyz`);
  assert.equal(ready.status, 503, 'every backend is down');
  const { backends } = Readiness.omit({ status: true }).parse(await ready.json());
  assert.deepEqual(Object.keys(backends), BACKEND_NAMES);
  for (const name of BACKEND_NAMES) assert.ok(backends[name]!.routes.length > 0, `${name} serves no route`);

  const doc = OpenApiTags.parse(await (await fetch(`${gw.url}/openapi.json`)).json());
  const tagged = Object.values(doc.paths).flatMap((methods) => Object.values(methods).flatMap((op) => op.tags ?? []));
  for (const service of SERVICES) {
    assert.ok(doc.tags.some((tag) => tag.name === service.tag.name), `no OpenAPI tag ${service.tag.name}`);
    assert.ok(tagged.includes(service.tag.name), `no route tagged ${service.tag.name}`);
  }

  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  for (const name of BACKEND_NAMES) assert.match(metrics, new RegExp(`^visiongate_backend_instances\\{backend="${name}",state="ejected"\\} 1$`, 'm'));
});

test('each descriptor names methods its generated client has', () => {
  for (const service of SERVICES) {
    for (const method of Object.keys(service.methods)) {
      assert.equal(typeof (service.client.prototype as Record<string, unknown>)[method], 'function', `${service.name}'s client has no ${method}`);
    }
    assert.ok(service.defaults.timeoutMs > 0 && service.defaults.maxReplyBytes >= 1024);
  }
});

test('in production, the error names every service\'s *_BACKENDS', () => {
  assert.throws(
    () => loadConfig({ NODE_ENV: 'production' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      for (const service of SERVICES) assert.match(err.message, new RegExp(`^invalid configuration: ${envPrefix(service.name)}BACKENDS=`, 'm'));
      return true;
    },
  );
});

test('docs/adding-a-backend.md names files that exist', () => {
  const doc = read('docs/adding-a-backend.md');
  const paths = [...doc.matchAll(/`((?:src|test|idl|gen|docs)\/[^`\s]*)`/g)].map((m) => m[1]!);
  assert.ok(paths.length >= 8, 'the guide names the files to add');
  for (const path of paths) assert.ok(existsSync(new URL(path, repo)), `${path} does not exist`);
});
