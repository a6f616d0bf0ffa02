import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { closedPort, fakeKeypoint, ok } from '../helpers/fake-backends.js';
import { fixture } from '../helpers/fixtures.js';
import { startGateway } from '../helpers/gateway.js';
import { requireTool } from '../helpers/tools.js';

const run = promisify(execFile);
const prometheusDir = new URL('../../deploy/prometheus/', import.meta.url).pathname;
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

// Debian's prometheus package ships promtool.
const needsPromtool = { skip: requireTool('promtool', 'prometheus') };

interface Rule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rulesOf = (file: string) => (parse(read(`deploy/prometheus/${file}`)) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);

const RULE_FILES = ['alerts.yml'];

interface Panel {
  type: string;
  title: string;
  panels?: Panel[];
  targets?: Array<{ expr: string }>;
}
const dashboard = JSON.parse(read('deploy/grafana/visiongate.json')) as { panels: Panel[]; templating: { list: Array<{ name: string }> } };
/** Grafana's variables, as Prometheus would see them once Grafana fills them in. */
const dashboardQueries = () =>
  dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).flatMap((p) => (p.targets ?? []).map((t) => t.expr.replaceAll('$__rate_interval', '5m')));

test('promtool: the rules are valid and their unit tests pass; the Prometheus configuration is valid', needsPromtool, async () => {
  for (const file of RULE_FILES) {
    await run('promtool', ['check', 'rules', file], { cwd: prometheusDir });
    await run('promtool', ['test', 'rules', file.replace(/\.yml$/, '.test.yml')], { cwd: prometheusDir });
  }
  // Compose's, which loads the rules. (The Kubernetes scrape job in docs/deployment.md cannot be
  // checked so: Debian builds promtool without Kubernetes discovery.)
  await run('promtool', ['check', 'config', 'prometheus.yml'], { cwd: prometheusDir });
});

test('every alert has a summary, a severity and a runbook entry, and every runbook entry an alert', () => {
  const runbook = read('docs/runbook.md');
  const headings = new Set([...runbook.matchAll(/^## (\w+)$/gm)].map((m) => m[1]!));
  const alerts = new Set<string>();
  for (const rule of RULE_FILES.flatMap(rulesOf)) {
    alerts.add(rule.alert);
    assert.ok(rule.annotations?.summary, `${rule.alert}: summary`);
    assert.match(rule.labels?.severity ?? '', /^(critical|warning)$/, `${rule.alert}: severity`);
    assert.equal(rule.annotations?.runbook_url, `docs/runbook.md#${rule.alert.toLowerCase()}`);
    assert.ok(headings.has(rule.alert), `docs/runbook.md has "## ${rule.alert}"`);
  }
  assert.deepEqual([...headings].sort(), [...alerts].sort());
});

test('the dashboard: a row per concern, each with panels, and every query is valid PromQL', needsPromtool, async () => {
  const rows = dashboard.panels.filter((p) => p.type === 'row');
  assert.deepEqual(
    rows.map((r) => r.title),
    ['Traffic', 'Latency by stage', 'Backends', 'Partners', 'Shedding', 'Jobs'],
  );
  dashboard.panels.forEach((p, i) => {
    if (p.type === 'row') assert.notEqual(dashboard.panels[i + 1]?.type ?? 'row', 'row', `row ${p.title} has panels`);
    else assert.ok(p.targets?.length, `${p.title} has a query`);
  });
  assert.ok(dashboard.templating.list.some((v) => v.name === 'datasource'), 'the Prometheus data source is chosen on import');
  // promtool parses PromQL only in rule files: each query becomes a recording rule.
  const dir = mkdtempSync(join(tmpdir(), 'vg-dashboard-'));
  const rules = dashboardQueries().map((expr, i) => ({ record: `dashboard:query${i}`, expr }));
  writeFileSync(join(dir, 'dashboard.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
  await run('promtool', ['check', 'rules', 'dashboard.yml'], { cwd: dir });
});

/** The metric names a PromQL expression reads (labels, functions, keywords and ranges left out). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without']);
  return [...bare.matchAll(/\b[a-zA-Z_][a-zA-Z0-9_]*\b(?!\s*\()/g)].map((m) => m[0]).filter((name) => !keywords.has(name) && !/^\d/.test(name));
}

test('every metric the rules and the dashboard name is one a running gateway exports', async (t) => {
  const backend = await fakeKeypoint(() => ok());
  t.after(() => backend.close());
  // Limits in Redis (here a Redis that is down), so that the Redis gauge is there too.
  const gw = await startGateway({
    KEYPOINT_BACKENDS: backend.address,
    RATE_LIMIT_RPS: '100',
    REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
    JOB_STORE_DIR: mkdtempSync(join(tmpdir(), 'vg-jobs-')),
  });
  t.after(() => gw.close());
  const res = await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: fixture('coffee.png') });
  assert.equal(res.status, 200);
  const text = await (await fetch(`${gw.url}/metrics`)).text();

  // Every family the registry has, seen or not yet, with the series names its type makes.
  const exported = new Set(['up']); // Prometheus' own, per scraped target
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    exported.add(name!);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(name! + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) exported.add(name! + suffix);
  }
  const queries = [...RULE_FILES.flatMap(rulesOf).map((r) => r.expr), ...dashboardQueries()];
  for (const query of queries) {
    const names = metricNames(query);
    assert.ok(names.length > 0, `a metric in ${query}`);
    for (const name of names) assert.ok(exported.has(name), `${name} (in ${query.trim()}) is exported by the gateway`);
  }
});
