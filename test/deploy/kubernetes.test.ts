import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Namespace, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import type { IContainer, IPodSpec, IProbe } from 'kubernetes-models/v1';
import { parseAllDocuments, parse } from 'yaml';
import { loadConfig, loadKeys } from '../../src/config/load.js';
import { bytes, readRepoFile as read, repoPath } from '../helpers/deploy-files.js';

// No cluster here: the manifests are checked against the Kubernetes API schemas (kubernetes-models,
// generated from the OpenAPI of Kubernetes itself) and against each other and the gateway's config.
const KINDS: Record<string, { validate(data: unknown): void }> = {
  'apps/v1/Deployment': { validate: (d) => new Deployment(d as Deployment).validate() },
  'apps/v1/StatefulSet': { validate: (d) => new StatefulSet(d as StatefulSet).validate() },
  'autoscaling/v2/HorizontalPodAutoscaler': { validate: (d) => new HorizontalPodAutoscaler(d as HorizontalPodAutoscaler).validate() },
  'networking.k8s.io/v1/Ingress': { validate: (d) => new Ingress(d as Ingress).validate() },
  'networking.k8s.io/v1/NetworkPolicy': { validate: (d) => new NetworkPolicy(d as NetworkPolicy).validate() },
  'policy/v1/PodDisruptionBudget': { validate: (d) => new PodDisruptionBudget(d as PodDisruptionBudget).validate() },
  'v1/Namespace': { validate: (d) => new Namespace(d as Namespace).validate() },
  'v1/Service': { validate: (d) => new Service(d as Service).validate() },
  'v1/PersistentVolumeClaim': { validate: (d) => new PersistentVolumeClaim(d as PersistentVolumeClaim).validate() },
};

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // Each kind's own spec; read below through the fields each check needs.
  spec: Record<string, any>;
}

const dir = 'deploy/k8s/';
const kustomization = parse(read(`${dir}kustomization.yaml`)) as { resources: string[]; namespace: string };
const files = readdirSync(repoPath(dir)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const manifests: Manifest[] = files.flatMap((file) => parseAllDocuments(read(`${dir}${file}`)).map((d) => d.toJS() as Manifest));
const find = (kind: string, name: string) => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  assert.ok(found, `a ${kind} ${name}`);
  return found;
};
const podSpec = (m: Manifest) => m.spec.template.spec as IPodSpec;
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

const gateway = find('Deployment', 'visiongate-gateway');
const gatewayContainer = podSpec(gateway).containers[0]!;
const gatewayEnv = Object.fromEntries(gatewayContainer.env!.map((e) => [e.name, e.value!]));

/** The gateway's configuration from its manifest's environment; the keys Secret is the example keys file. */
function gatewayConfig() {
  const keysMount = gatewayContainer.volumeMounts!.find((m) => gatewayEnv.API_KEYS_FILE!.startsWith(`${m.mountPath}/`))!;
  const volume = podSpec(gateway).volumes!.find((v) => v.name === keysMount.name)!;
  assert.ok(volume.secret?.secretName, 'API_KEYS_FILE is in a volume from a Secret');
  const config = loadConfig({ ...gatewayEnv, API_KEYS_FILE: repoPath('deploy/api-keys.example.json') });
  assert.ok(loadKeys(config), 'API keys on');
  return config;
}

test('every manifest is valid against the Kubernetes schemas, and kustomize applies them all', () => {
  assert.deepEqual([...kustomization.resources].sort(), [...files].sort());
  for (const m of manifests) {
    const kind = KINDS[`${m.apiVersion}/${m.kind}`];
    assert.ok(kind, `${m.apiVersion} ${m.kind} is a kind this test knows`);
    assert.doesNotThrow(() => kind.validate(m), `${m.kind} ${m.metadata.name}`);
  }
  // The schemas catch wrong types and missing fields (not unknown ones: Kubernetes' OpenAPI does not close its objects).
  assert.throws(() => KINDS['apps/v1/Deployment']!.validate({ ...gateway, spec: { ...gateway.spec, replicas: 'two' } }));
  assert.throws(() => KINDS['apps/v1/Deployment']!.validate({ ...gateway, spec: { ...gateway.spec, selector: undefined } }));
  for (const m of manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet')) {
    assert.ok(matches(m.spec.selector.matchLabels, m.spec.template.metadata.labels), `${m.metadata.name}: the selector picks its pods`);
    for (const c of podSpec(m).containers) {
      assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory && c.resources.limits?.memory, `${m.metadata.name}: requests and a memory limit`);
      assert.ok(c.readinessProbe && c.livenessProbe, `${m.metadata.name}: readiness and liveness probes`);
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${m.metadata.name}: no privilege escalation`);
    }
    assert.equal(podSpec(m).securityContext?.runAsNonRoot, true, `${m.metadata.name}: not root`);
  }
});

test('the gateway: a production configuration, probed on /readyz and /healthz, stopped after its drain', () => {
  const config = gatewayConfig();
  assert.equal(gatewayEnv.NODE_ENV, 'production');
  assert.ok(config.trustProxy, 'TRUST_PROXY set: the ingress controller forwards the client address');
  const port = (probe: IProbe | undefined) => {
    const named = probe!.httpGet!.port;
    return typeof named === 'number' ? named : gatewayContainer.ports!.find((p) => p.name === named)!.containerPort;
  };
  assert.equal(gatewayContainer.readinessProbe!.httpGet!.path, '/readyz');
  assert.equal(gatewayContainer.livenessProbe!.httpGet!.path, '/healthz');
  for (const probe of [gatewayContainer.readinessProbe, gatewayContainer.livenessProbe, gatewayContainer.startupProbe]) assert.equal(port(probe), config.port);
  // /readyz gives each backend a second to accept a connection.
  assert.ok(gatewayContainer.readinessProbe!.timeoutSeconds! > 1);
  assert.ok(podSpec(gateway).terminationGracePeriodSeconds! * 1000 > config.drainDelayMs + config.drainTimeoutMs, 'the kubelet waits for the drain');
  assert.ok(config.drainTimeoutMs >= config.backends.arscan.timeoutMs, 'a rollout lets an arscan call finish');
  assert.ok(bytes(String(gatewayContainer.resources!.limits!.memory)) >= config.maxInflightBytes + bytes('512Mi'), 'memory covers MAX_INFLIGHT_REQUEST_BYTES');
  // The root file system is read-only: the jobs go to a writable volume.
  assert.equal(gatewayContainer.securityContext?.readOnlyRootFilesystem, true);
  const jobsMount = gatewayContainer.volumeMounts!.find((m) => config.jobs.storeDir.startsWith(`${m.mountPath}/`));
  assert.ok(jobsMount && !jobsMount.readOnly, 'JOB_STORE_DIR in a writable volume');
  // Shared by every pod: a job accepted by one can be run by another (states are in Redis).
  const jobsVolume = (gateway.spec.template.spec as IPodSpec).volumes!.find((v) => v.name === jobsMount!.name)!;
  const claim = find('PersistentVolumeClaim', jobsVolume.persistentVolumeClaim?.claimName ?? '');
  assert.deepEqual(claim.spec.accessModes, ['ReadWriteMany']);
  assert.equal(podSpec(gateway).securityContext?.fsGroup, podSpec(gateway).securityContext?.runAsUser, 'its files belong to the gateway user');
  assert.equal(gateway.spec.template.metadata.annotations['prometheus.io/port'], String(config.metricsPort));
  assert.ok(gatewayContainer.ports!.some((p) => p.containerPort === config.metricsPort));
});

test('the gateway: a Service, a PodDisruptionBudget, an HPA and the Ingress all reach its pods', () => {
  const labels = gateway.spec.template.metadata.labels as Record<string, string>;
  const service = find('Service', 'visiongate-gateway');
  assert.ok(matches(service.spec.selector, labels));
  const http = (service.spec.ports as Array<{ name: string; targetPort: string }>).find((p) => p.name === 'http')!;
  assert.ok(gatewayContainer.ports!.some((p) => p.name === http.targetPort && p.containerPort === gatewayConfig().port));
  const pdb = find('PodDisruptionBudget', 'visiongate-gateway');
  assert.ok(matches(pdb.spec.selector.matchLabels, labels));
  const hpa = find('HorizontalPodAutoscaler', 'visiongate-gateway');
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'visiongate-gateway' });
  assert.ok(hpa.spec.minReplicas > pdb.spec.minAvailable, 'a node drain can always evict one replica');
  assert.equal(gateway.spec.replicas, undefined, 'the HPA owns the replica count');
  // The HPA's CPU target is a share of the request: there must be one.
  assert.ok(gatewayContainer.resources!.requests!.cpu);
  const ingress = find('Ingress', 'visiongate');
  assert.deepEqual(ingress.spec.rules[0].http.paths[0].backend.service, { name: 'visiongate-gateway', port: { name: 'http' } });
  assert.equal(ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-body-size'], '0', 'the gateway answers 413 itself');
});

test('the backends: headless Services, whose every pod the gateway calls as an instance', () => {
  const config = gatewayConfig();
  for (const name of ['keypoint', 'image3d', 'arscan'] as const) {
    const [instance] = config.backends[name].instances!;
    const service = find('Service', instance!.host);
    assert.equal(service.spec.clusterIP, 'None', `${name}: headless, so its name resolves to every pod`);
    const port = (service.spec.ports as Array<{ port: number; targetPort: string }>).find((p) => p.port === instance!.port)!;
    assert.ok(port, `${name}: the Service has the port the gateway calls`);
    const deployment = manifests.find((m) => m.kind === 'Deployment' && matches(service.spec.selector, m.spec.template.metadata.labels))!;
    assert.ok(deployment, `${name}: a Deployment behind the Service`);
    const container: IContainer = podSpec(deployment).containers[0]!;
    assert.ok(container.ports!.some((p) => p.name === port.targetPort && p.containerPort === instance!.port));
    assert.ok((deployment.spec.replicas ?? 1) >= 2, `${name}: several instances`);
  }
});

test('Redis: what REDIS_URL names, keeping jobs (noeviction, append-only on a volume) within its memory limit', () => {
  const config = gatewayConfig();
  const url = new URL(config.redisUrl!);
  const service = find('Service', url.hostname);
  const redis = find('StatefulSet', 'redis');
  assert.ok(matches(service.spec.selector, redis.spec.template.metadata.labels));
  assert.equal(Number(service.spec.ports[0].port), Number(url.port));
  const container = podSpec(redis).containers[0]!;
  const option = (name: string) => container.args![container.args!.indexOf(`--${name}`) + 1]!;
  assert.equal(option('maxmemory-policy'), 'noeviction');
  assert.equal(option('appendonly'), 'yes');
  assert.ok(bytes(option('maxmemory')) < bytes(String(container.resources!.limits!.memory)), 'maxmemory under the container limit');
  assert.ok(container.volumeMounts!.some((m) => m.mountPath === '/data' && redis.spec.volumeClaimTemplates.some((c: { metadata: { name: string } }) => c.metadata.name === m.name)));
});

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}
/** Whether a label selector picks these labels (the In operator is the only one deploy/ uses). */
const selects = (selector: LabelSelector, labels: Record<string, string>) =>
  matches(selector.matchLabels ?? {}, labels) &&
  (selector.matchExpressions ?? []).every((e) => {
    assert.equal(e.operator, 'In');
    return e.values!.includes(labels[e.key]!);
  });

test('network policies: the gateway only from the ingress controller (so TRUST_PROXY cannot be abused), backends and Redis only from the gateway', () => {
  interface Rule {
    from: Array<{ podSelector?: LabelSelector; namespaceSelector?: LabelSelector }>;
    ports: Array<{ port: string }>;
  }
  const policies = manifests.filter((m) => m.kind === 'NetworkPolicy');
  const gatewayLabels = gateway.spec.template.metadata.labels as Record<string, string>;
  for (const workload of manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet')) {
    const labels = workload.spec.template.metadata.labels as Record<string, string>;
    const mine = policies.filter((p) => selects(p.spec.podSelector, labels));
    assert.equal(mine.length, 1, `${workload.metadata.name}: one policy`);
    const rules = mine[0]!.spec.ingress as Rule[];
    const portNames = new Set(podSpec(workload).containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)));
    for (const rule of rules) for (const { port } of rule.ports) assert.ok(portNames.has(port), `${workload.metadata.name} has a port named ${port}`);
    if (workload === gateway) {
      const http = rules.filter((r) => r.ports.some((p) => p.port === 'http'));
      assert.deepEqual(
        http.flatMap((r) => r.from),
        [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }],
      );
      assert.equal(find('Ingress', 'visiongate').spec.ingressClassName, 'nginx');
    } else {
      for (const rule of rules) for (const from of rule.from) assert.ok(!from.namespaceSelector && selects(from.podSelector!, gatewayLabels), `${workload.metadata.name}: from the gateway only`);
    }
  }
});
