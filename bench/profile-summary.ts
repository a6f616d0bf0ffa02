// Reads a .cpuprofile (`npm run bench -- --profile` writes the gateway's to bench/results/profile/)
// and prints where the time went: self time by function and by file, over the last `--last`
// seconds of the profile only (the load, not the start-up and its compiling), and the total
// time under each of our own functions (self plus callees). Chrome's DevTools read the same
// file; this is for a terminal and for comparing two profiles side by side.
//   npx tsx bench/profile-summary.ts bench/results/profile/CPU.*.cpuprofile [--last 8] [--top 40] [--callers NAME] [--under NAME]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { last: { type: 'string', default: '8' }, top: { type: 'string', default: '40' }, callers: { type: 'string' }, under: { type: 'string' } },
});
const top = Number(args.top);
const profile = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Sample times, then keep the window at the end.
const times: number[] = [];
let t = profile.startTime;
for (const d of profile.timeDeltas) times.push((t += d));
const from = profile.endTime - Number(args.last) * 1e6;
const selfUs = new Map<number, number>();
let windowUs = 0;
for (let i = 0; i < profile.samples.length; i++) {
  if (times[i]! < from) continue;
  const dt = (times[i + 1] ?? profile.endTime) - times[i]!;
  windowUs += dt;
  selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + dt);
}

const short = (url: string) => url.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/').replace(/^node:/, 'node:');
const label = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const fileOf = (n: Node) => {
  const url = short(n.callFrame.url);
  if (!url) return n.callFrame.functionName; // (garbage collector), (program), (idle)
  const pkg = /^node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  return pkg ? `node_modules/${pkg[1]}` : url;
};
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  add(byFunction, label(n), us);
  add(byFile, fileOf(n), us);
  // Total time: charge every distinct frame of our own code on the stack once.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const f = byId.get(cur)!;
    if (!/\/(src|dist|gen|bench)\//.test(f.callFrame.url)) continue;
    const l = label(f);
    if (!seen.has(l)) {
      seen.add(l);
      add(inclusive, l, us);
    }
  }
}
const busy = windowUs - (byFunction.get('(idle) :0') ?? 0);
byFunction.delete('(idle) :0');
byFile.delete('(idle)');
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n## ${title} (% of busy time)`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
};
console.log(`window: last ${(windowUs / 1e6).toFixed(1)} s, busy ${(busy / 1000).toFixed(0)} ms (${((100 * busy) / windowUs).toFixed(0)}%)`);
print('self time by function', byFunction);
print('self time by file or package', byFile);
print('total time under our own functions', inclusive);

// --callers NAME: the stacks under which a function's self time was spent, to find who calls it.
if (args.callers) {
  const stacks = new Map<string, number>();
  for (const [id, us] of selfUs) {
    if (!label(byId.get(id)!).startsWith(args.callers)) continue;
    const frames: string[] = [];
    for (let cur = parent.get(id); cur !== undefined && frames.length < 8; cur = parent.get(cur)) frames.push(label(byId.get(cur)!));
    add(stacks, frames.join('  <  '), us);
  }
  print(`stacks under ${args.callers}`, stacks);
}

// --under NAME: where the time under a function went (self time of it and its callees, by function).
if (args.under) {
  const below = new Map<string, number>();
  for (const [id, us] of selfUs) {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      if (!label(byId.get(cur)!).startsWith(args.under)) continue;
      add(below, label(byId.get(id)!), us);
      break;
    }
  }
  print(`time under ${args.under}, by function`, below);
}
