import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import Fastify from 'fastify';
import { parse } from 'yaml';
import { loadConfig, loadKeys } from '../../src/config/load.js';
import { bytes, milliseconds, readRepoFile as read, repoPath } from '../helpers/deploy-files.js';

interface Service {
  image?: string;
  build?: { context: string; target: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  expose?: string[];
  restart?: string;
  healthcheck?: { test?: string[]; disable?: boolean };
  networks?: Record<string, { ipv4_address?: string }>;
  deploy?: { replicas?: number; resources?: { limits?: { cpus?: string; memory?: string } } };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
}

// The reference backends share their settings through a YAML merge key, as compose reads it.
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const { services } = compose;
const hostPath = (service: Service, inside: string) => service.volumes!.map((v) => v.split(':')).find(([, to]) => to === inside)![0]!;

/** The gateway's configuration as loadConfig reads its compose environment (the keys file from this repository). */
function gatewayConfig() {
  const env = { ...services.gateway!.environment! };
  env.API_KEYS_FILE = repoPath(hostPath(services.gateway!, env.API_KEYS_FILE!));
  return loadConfig(env);
}

// No Docker engine runs here: the compose file is checked by reading it.
test('docker-compose.yml: nginx before several gateway replicas, Redis, Prometheus, Grafana, and each backend its own service', () => {
  assert.deepEqual(Object.keys(services).sort(), ['arscan', 'gateway', 'grafana', 'image3d', 'keypoint', 'nginx', 'prometheus', 'redis']);
  const gateway = services.gateway!;
  assert.ok((gateway.deploy?.replicas ?? 1) >= 2, 'several replicas');
  assert.equal(gateway.ports, undefined, 'replicas are reached through nginx only');

  // The gateway's environment is a valid production configuration, pointing at the services of this file.
  const config = gatewayConfig();
  assert.equal(gateway.environment!.NODE_ENV, 'production');
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

  // Prometheus scrapes the metrics port and loads the alerts; Grafana gets the dashboard.
  const prometheusDir = hostPath(services.prometheus!, '/etc/prometheus');
  const scrape = parse(read(`${prometheusDir}/prometheus.yml`)) as { rule_files: string[]; scrape_configs: Array<{ job_name: string; dns_sd_configs: unknown[] }> };
  assert.deepEqual(scrape.scrape_configs[0]!.dns_sd_configs[0], { names: ['gateway'], type: 'A', port: config.metricsPort });
  assert.equal(scrape.scrape_configs[0]!.job_name, 'visiongate', 'the name the alerts select');
  for (const file of scrape.rule_files) assert.ok(existsSync(repoPath(`${prometheusDir}/${file}`)), file);
  for (const volume of services.grafana!.volumes!) assert.ok(existsSync(repoPath(volume.split(':')[0]!)), volume);

  for (const [name, service] of Object.entries(services)) {
    for (const dependency of Object.keys(service.depends_on ?? {})) assert.ok(services[dependency], `${name} depends on a service of this file`);
  }
});

test('docker-compose.yml: every service restarts on failure and has CPU and memory limits', () => {
  for (const [name, service] of Object.entries(services)) {
    assert.match(service.restart ?? '', /^(unless-stopped|always|on-failure)$/, `${name}: restart policy`);
    const limits = service.deploy?.resources?.limits;
    assert.ok(Number(limits?.cpus) > 0, `${name}: a CPU limit`);
    assert.ok(bytes(limits?.memory ?? '') > 0, `${name}: a memory limit`);
  }
  // The gateway's memory holds the request bodies it admits at once, and the process besides.
  const config = gatewayConfig();
  assert.ok(bytes(services.gateway!.deploy!.resources!.limits!.memory!) >= config.maxInflightBytes + bytes('512Mi'), 'gateway memory covers MAX_INFLIGHT_REQUEST_BYTES');
  // Jobs' inputs and results are written to one named volume every replica mounts (their states
  // are in Redis), not into the image (its /app belongs to root): a job accepted by one replica
  // can be run by another.
  assert.ok(config.redisUrl, 'jobs are shared through Redis');
  const jobsVolume = services.gateway!.volumes!.map((v) => v.split(':')).find(([name, inside]) => inside && config.jobs.storeDir.startsWith(`${inside}/`) && name && !name.startsWith('.'));
  assert.ok(jobsVolume && jobsVolume[0]! in (compose.volumes ?? {}), 'JOB_STORE_DIR on a named volume shared by the replicas');
  // Stopping waits for the drain: readiness 503 for DRAIN_DELAY_MS, then requests in flight for up to DRAIN_TIMEOUT_MS.
  assert.ok(milliseconds(services.gateway!.stop_grace_period!) > config.drainDelayMs + config.drainTimeoutMs, 'stop_grace_period covers the drain');
});

test('docker-compose.yml: started in order of readiness; the gateway probed on /readyz', () => {
  const config = gatewayConfig();
  assert.deepEqual(services.nginx!.depends_on, { gateway: { condition: 'service_healthy' } });
  const probe = services.gateway!.healthcheck!.test!.join(' ');
  assert.match(probe, new RegExp(`http://127\\.0\\.0\\.1:${config.port}/readyz`));
  for (const dependency of ['redis', 'keypoint', 'image3d', 'arscan']) {
    assert.equal(services.gateway!.depends_on![dependency]!.condition, 'service_healthy', `gateway waits for ${dependency}`);
    assert.ok(services[dependency]!.healthcheck?.test && !services[dependency]!.healthcheck?.disable, `${dependency} has a health check`);
  }
  // A reference backend is healthy once it listens on the port the gateway calls.
  assert.match(services.keypoint!.healthcheck!.test!.join(' '), new RegExp(`connect\\(${config.backends.keypoint.instances![0]!.port}, '127\\.0\\.0\\.1'\\)`));
});

test('docker-compose.yml: nginx re-resolves the replicas and is the one proxy the gateway trusts', () => {
  const config = gatewayConfig();
  const nginx = services.nginx!;
  const conf = read(hostPath(nginx, '/etc/nginx/nginx.conf'));
  // Docker's DNS, asked again while running; every address of the name kept in the group.
  assert.match(conf, /^\s*resolver 127\.0\.0\.11 valid=\d+s[^;]*;$/m);
  assert.match(conf, /^\s*zone \w+ \d+k;$/m);
  assert.match(conf, new RegExp(`^\\s*server gateway:${config.port} resolve;$`, 'm'));
  // `resolve` in an open-source nginx upstream: 1.27.3 and later.
  const [major, minor] = /^nginx:(\d+)\.(\d+)/.exec(nginx.image!)!.slice(1).map(Number);
  assert.ok(major! > 1 || minor! >= 28, `${nginx.image} supports "server ... resolve"`);
  assert.match(conf, /proxy_request_buffering off;/);
  assert.match(conf, /proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/);
  assert.match(conf, /proxy_set_header X-Real-IP \$remote_addr;/);
  // nginx lets an idle connection go before the gateway would close it under a request.
  const keepalive = milliseconds(/^\s*keepalive_timeout (\S+);$/m.exec(conf)![1]!);
  assert.ok(keepalive < Fastify().initialConfig.keepAliveTimeout!, 'nginx keepalive_timeout under fastify\'s');
  // TRUST_PROXY names nginx's fixed address, inside the network's subnet.
  const address = nginx.networks!.default!.ipv4_address!;
  assert.equal(services.gateway!.environment!.TRUST_PROXY, address);
  const subnet = (parse(read('docker-compose.yml')) as { networks: { default: { ipam: { config: Array<{ subnet: string }> } } } }).networks.default.ipam.config[0]!.subnet;
  assert.equal(subnet, `${address.split('.').slice(0, 3).join('.')}.0/24`);
});

test('docker-compose.yml: Redis keeps jobs (noeviction, append-only) within its memory limit', () => {
  const command = services.redis!.command!;
  const option = (name: string) => command[command.indexOf(`--${name}`) + 1];
  assert.equal(option('maxmemory-policy'), 'noeviction');
  assert.equal(option('appendonly'), 'yes');
  assert.ok(bytes(option('maxmemory')!) < bytes(services.redis!.deploy!.resources!.limits!.memory!), 'maxmemory under the container limit');
});

/** The Dockerfile's stages by name, each its lines up to the next FROM. */
function dockerStages(): Map<string, string> {
  const stages = new Map<string, string>();
  for (const stage of read('Dockerfile').split(/^(?=FROM )/m).slice(1)) stages.set(/^FROM \S+ AS (\S+)$/m.exec(stage)![1]!, stage);
  return stages;
}

test('Dockerfile: multi-stage, production dependencies only, not root, started as npm start does', () => {
  const stages = dockerStages();
  assert.deepEqual([...stages.keys()], ['build', 'reference-backends', 'gateway'], 'the gateway last: the default target');
  const gateway = stages.get('gateway')!;
  // The gateway's production install leaves the reference backends' workspace and packages out
  // (test/deploy/packages.test.ts runs that install); their image installs them.
  assert.match(gateway, /^RUN npm ci --omit=dev --workspaces=false /m);
  assert.doesNotMatch(gateway, /src\/backends|dist\/backends/);
  assert.match(stages.get('reference-backends')!, /^COPY src\/backends\/package\.json /m);
  assert.match(stages.get('reference-backends')!, /^RUN npm ci --omit=dev --no-audit/m);
  for (const name of ['gateway', 'reference-backends']) assert.match(stages.get(name)!, /^USER node$/m, `${name}: not root`);
  // The node user can write its jobs where JOB_STORE_DIR says by default.
  const jobs = /^ENV JOB_STORE_DIR=(\S+)$/m.exec(gateway)![1]!;
  const owned = /^RUN mkdir -p (\S+) && chown node:node \1$/m.exec(gateway)![1]!;
  assert.ok(jobs.startsWith(`${owned}/`), `${jobs} is inside ${owned}`);
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
  const started = /^CMD \["node", (.*)\]$/m.exec(gateway)![1]!.replace(/"/g, '').split(', ').join(' ');
  assert.equal(`exec node ${started}`, pkg.scripts.start);
});

test('docker-compose.yml: the gateway and the reference backends each built from their own target', () => {
  const stages = dockerStages();
  assert.deepEqual(services.gateway!.build, { context: '.', target: 'gateway' });
  // The backends' commands run dist/backends/<name>/main.js: all of dist is in their image.
  assert.match(stages.get('reference-backends')!, /^COPY --from=build \/app\/dist \.\/dist$/m);
  for (const backend of ['keypoint', 'image3d', 'arscan']) {
    const service = services[backend]!;
    assert.deepEqual(service.build, { context: '.', target: 'reference-backends' }, backend);
    assert.notEqual(service.image, services.gateway!.image, `${backend}: not the gateway's image`);
  }
});
