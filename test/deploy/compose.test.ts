import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { loadConfig, loadKeys } from '../../src/config/load.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  expose?: string[];
  deploy?: { replicas?: number };
  depends_on?: Record<string, unknown>;
}

// No Docker engine runs here: the compose file is checked by reading it.
test('docker-compose.yml: nginx before several gateway replicas, Redis, Prometheus, and each backend its own service', () => {
  const { services } = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
  assert.deepEqual(Object.keys(services).sort(), ['arscan', 'gateway', 'image3d', 'keypoint', 'nginx', 'prometheus', 'redis']);
  const gateway = services.gateway!;
  assert.ok((gateway.deploy?.replicas ?? 1) >= 2, 'several replicas');
  assert.equal(gateway.ports, undefined, 'replicas are reached through nginx only');

  // The gateway's environment is a valid configuration, pointing at the services of this file.
  const env = gateway.environment!;
  for (const volume of gateway.volumes ?? []) {
    const [host, inside] = volume.split(':');
    assert.ok(existsSync(new URL(host!, root)), `${host} exists`);
    if (inside === env.API_KEYS_FILE) env.API_KEYS_FILE = new URL(host!, root).pathname;
  }
  const config = loadConfig(env);
  for (const backend of ['keypoint', 'image3d', 'arscan'] as const) {
    const [instance] = config.backends[backend].instances!;
    assert.equal(instance!.host, backend);
    assert.match(services[backend]!.command!.join(' '), new RegExp(`dist/backends/${backend}/main.js .*--port ${instance!.port}`));
  }
  assert.equal(new URL(config.redisUrl!).hostname, 'redis');
  const keys = loadKeys(config);
  assert.ok(keys, 'API keys on');
  // The demo key the README gives for `docker compose up` is the one the example file holds.
  assert.equal((keys.verify('vg_demo_change_me_before_production') as { partner: { id: string } }).partner.id, 'demo');

  // nginx proxies to the gateway service on its port; Prometheus scrapes its metrics port.
  const nginx = services.nginx!;
  const nginxConf = nginx.volumes!.find((v) => v.includes('nginx.conf'))!.split(':')[0]!;
  assert.match(read(nginxConf), new RegExp(`server gateway:${config.port};`));
  assert.match(read(nginxConf), /proxy_request_buffering off;/);
  const prometheusConf = services.prometheus!.volumes!.find((v) => v.includes('prometheus.yml'))!.split(':')[0]!;
  const scrape = parse(read(prometheusConf)) as { scrape_configs: Array<{ dns_sd_configs: Array<{ names: string[]; port: number }> }> };
  assert.deepEqual(scrape.scrape_configs[0]!.dns_sd_configs[0], { names: ['gateway'], type: 'A', port: config.metricsPort });
  for (const [name, service] of Object.entries(services)) {
    for (const dependency of Object.keys(service.depends_on ?? {})) assert.ok(services[dependency], `${name} depends on a service of this file`);
  }
});

test('Dockerfile: multi-stage, production dependencies only, not root, started as npm start does', () => {
  const dockerfile = read('Dockerfile');
  assert.equal(dockerfile.match(/^FROM /gm)!.length, 2);
  assert.match(dockerfile, /npm ci --omit=dev/);
  assert.match(dockerfile, /^USER node$/m);
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
  const started = /^CMD \["node", (.*)\]$/m.exec(dockerfile)![1]!.replace(/"/g, '').split(', ').join(' ');
  assert.equal(`node ${started}`, pkg.scripts.start);
});
