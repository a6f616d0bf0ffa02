// `npm run bench`: what the gateway costs on top of the backend call. Starts the reference
// backends in benchmark mode (--precomputed: they answer at once), the gateway, a bare Fastify
// ceiling and a direct Thrift floor, drives each with wrk at fixed concurrency, and prints one
// table with every figure beside its reference; bench/results/latest.json gets the same.
// `--smoke` is the few-second run the tests make; `--seconds N` sets each run's length, `--warmup N`
// the unmeasured load each process gets before its first run of each body (10 s; none in --smoke);
// `--only REGEX` keeps the runs whose names match; `--profile` writes the gateway's CPU profile (node --cpu-prof) to bench/results/profile/
// (`npx tsx bench/profile-summary.ts FILE` sums it up). `--against DIR` also starts the gateway
// of another checkout (a `git worktree` of the commit before a change, say) and runs each of
// its gateway runs there, marked "[against]", in turns with the same run here, `--rounds N`
// times over: a change's effect on CPU ms per request, as the median over the rounds.
// `--rounds N` runs each gateway run N times, each right after a run of the ceiling it is compared
// with; the targets take the median of the rounds' ratios.
// `--frames DIR` keeps the replay backends' reply frames in DIR/<backend>/: a backend with none
// there is started and its frames recorded, one with them is replayed with no reference backend
// (so a machine without their models, the 16-core machine of docs/performance.md, runs the bench).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import sharp from 'sharp';
import { writeZip } from '../src/shared/write-zip.js';
import { START_FLAGS } from '../scripts/start-flags.js';

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '8' },
    profile: { type: 'boolean', default: false },
    only: { type: 'string' },
    workers: { type: 'string' },
    against: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    warmup: { type: 'string' },
    pin: { type: 'boolean', default: false },
    frames: { type: 'string' },
  },
});
const smoke = args.smoke;
const seconds = smoke ? 1 : Number(args.seconds);
// Each process serves a load of each body for this long, unmeasured, before its first measured
// run of it: a cold process spends its first seconds compiling (V8 tiers a function up only
// after many calls) and growing its heap, and measured cold the gateway's CPU per request was
// up to three times its warm figure while the ceiling's, a few functions, hardly moved.
const warmupSeconds = Number(args.warmup ?? (smoke ? 0 : 10));
const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'visiongate-bench-'));
const MiB = 1024 * 1024;
/** A load tool's run: its output, or an error with it when it exits otherwise than with 0. */
const run = promisify(execFile);
const children: ChildProcess[] = [];
// --pin: the process being measured (the gateway, the ceiling, the floor's client) gets the last
// core to itself, and everything else (wrk, the backends) the others, as the issue's 16-core run
// pinned each process to its own core; without it, all of them share every core.
const cores = cpus().length;
const pin = args.pin && cores > 1;
const MEASURED_CPUS = String(cores - 1);
const OTHER_CPUS = cores > 2 ? `0-${cores - 2}` : '0';
/** The command line that runs `command` on `cpus` under --pin (taskset execs it: the pid is the command's). */
const pinned = (cpus: string, command: string, argv: string[]): [string, string[]] => (pin ? ['taskset', ['-c', cpus, command, ...argv]] : [command, argv]);
// The bench itself (reading logs, sampling /proc) keeps off the measured core too.
if (pin) await run('taskset', ['-a', '-p', '-c', OTHER_CPUS, String(process.pid)]);
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

// ---- payloads: real photos, sized as the issue asks ----
const astronaut = readFileSync(join(root, 'test/fixtures/astronaut.png'));
/** The astronaut as a JPEG of about `bytes`, at the largest quality that stays under. */
async function jpegNear(bytes: number, width: number): Promise<Buffer> {
  let best = await sharp(astronaut).resize(width).jpeg({ quality: 50 }).toBuffer();
  for (let quality = 55; quality <= 100; quality += 5) {
    const candidate = await sharp(astronaut).resize(width).jpeg({ quality }).toBuffer();
    if (candidate.length > bytes) break;
    best = candidate;
  }
  return best;
}
/** A photo that does not compress: noise over the astronaut, so zip stores it as it is. */
async function noisyPhoto(side: number): Promise<Buffer> {
  const noise = await sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } }).png().toBuffer();
  return sharp(astronaut).resize(side, side).composite([{ input: noise, blend: 'overlay' }]).jpeg({ quality: 95 }).toBuffer();
}
function multipart(parts: Array<[field: string, filename: string, type: string, data: Buffer]>): { body: Buffer; type: string } {
  const boundary = `----visiongate-bench-${randomBytes(8).toString('hex')}`;
  const chunks = parts.flatMap(([field, filename, type, data]) => [
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`),
    data,
    Buffer.from('\r\n'),
  ]);
  return { body: Buffer.concat([...chunks, Buffer.from(`--${boundary}--\r\n`)]), type: `multipart/form-data; boundary=${boundary}` };
}

const keypointJpeg = await jpegNear(112 * 1024, 1024);
const image3dJpeg = await jpegNear(1024 * 1024, 3600);
const setTarget = smoke ? 2 * MiB : 20 * MiB;
const photos: Array<[string, Buffer]> = [];
for (let total = 0, i = 0; total < setTarget || photos.length < 3; i++) {
  const photo = await noisyPhoto(smoke ? 512 : 1400);
  photos.push([`photo-${i}.jpg`, photo]);
  total += photo.length;
}
const captureZip = await writeZip(photos.map(([name, data]) => [name, data, false]));

interface Body {
  file: string;
  type: string;
  /** The payload's size (image or zip), for the RSS ratio. */
  payload: number;
}
function body(name: string, data: Buffer | string, type: string, payload: number): Body {
  const file = join(work, name);
  writeFileSync(file, data);
  return { file, type, payload };
}
const kpMultipart = multipart([['image', 'astronaut.jpg', 'image/jpeg', keypointJpeg]]);
const arMultipart = multipart([['archive', 'set.zip', 'application/zip', captureZip]]);
const bodies = {
  kpJson: body('kp.json', JSON.stringify({ image: keypointJpeg.toString('base64'), max_faces: 10 }), 'application/json', keypointJpeg.length),
  kpMultipart: body('kp.multipart', kpMultipart.body, kpMultipart.type, keypointJpeg.length),
  kpRaw: body('kp.jpg', keypointJpeg, 'image/jpeg', keypointJpeg.length),
  i3dRaw: body('i3d.jpg', image3dJpeg, 'image/jpeg', image3dJpeg.length),
  arMultipart: body('ar.multipart', arMultipart.body, arMultipart.type, captureZip.length),
  arRaw: body('ar.zip', captureZip, 'application/zip', captureZip.length),
  arJson: body('ar.json', JSON.stringify({ archive: captureZip.toString('base64') }), 'application/json', captureZip.length),
};

// ---- processes ----
function start(
  file: string,
  argv: string[],
  env: Record<string, string>,
  ready: RegExp,
  nodeFlags: string[] = [],
  cwd = root,
  cpus = OTHER_CPUS,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  // TypeScript through tsx; the gateway's built JavaScript as it is.
  const loader = file.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(...pinned(cpus, process.execPath, [...nodeFlags, ...loader, join(cwd, file), ...argv]), { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${file} exited with code ${code}: ${out}`)));
    const onData = (chunk: Buffer) => {
      out = (out + chunk.toString()).slice(-10_000);
      const match = ready.exec(out);
      if (match) {
        out = '';
        // From now on the logs are read and dropped as they come, at no cost to speak of: a
        // line per request is thousands a second, and the bench shares a core with wrk.
        child.stdout!.off('data', onData).resume();
        resolve({ child, match });
      }
    };
    child.stdout!.on('data', onData);
  });
}
const referencePort = async (name: string) =>
  (await start(`src/backends/${name}/main.ts`, ['--port', '0', '--precomputed'], {}, /listening on 127\.0\.0\.1:(\d+)/)).match[1]!;
// The gateway calls replay backends (bench/replay-backend.ts): each passes its first call of a
// method to the reference backend and answers every later one with that reply frame, at
// next to no cost, so the figures are the gateway's and not the backend's.
// The keypoint replay gets a process per 4 cores: one answers about 15,000 calls a second, fewer
// than the WORKERS runs ask for on a many-core machine.
const backendPort = async (name: string) => {
  const frames = args.frames ? join(resolve(args.frames), name) : undefined;
  const recorded = frames !== undefined && existsSync(frames) && readdirSync(frames).some((f) => f.endsWith('.frame'));
  const upstream = recorded ? undefined : await referencePort(name);
  const processes = name === 'keypoint' ? Math.max(1, Math.floor(cores / 4)) : 1;
  const argv = ['--port', '0', '--processes', String(processes), ...(upstream ? ['--upstream', `127.0.0.1:${upstream}`] : []), ...(frames ? ['--frames', frames] : [])];
  return { upstream, port: (await start('bench/replay-backend.ts', argv, {}, /replay listening on 127\.0\.0\.1:(\d+)/)).match[1]! };
};
const [keypoint, image3d, arscan] = await Promise.all(['keypoint', 'image3d', 'arscan'].map(backendPort));
const [keypointPort, image3dPort, arscanPort] = [keypoint!.port, image3d!.port, arscan!.port];
// The gateway runs as `npm start` runs it: tsc's output under plain node. Under tsx every closure
// the gateway makes is wrapped by esbuild's __name (an Object.defineProperty each), about 1 % of
// its profile, which production does not pay.
const build = (cwd: string) => run('npm', ['run', 'build', '--silent'], { cwd });
await Promise.all([root, ...(args.against ? [args.against] : [])].map(build));
/** The gateway as `npm start` runs it, against the replay backends, with `workers` processes. */
const startGateway = (workers: number, profile = false, cwd = root, cpus = MEASURED_CPUS) =>
  start(
    'dist/server.js',
    [],
    {
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      WORKERS: String(workers),
      KEYPOINT_BACKENDS: `127.0.0.1:${keypointPort}`,
      IMAGE3D_BACKENDS: `127.0.0.1:${image3dPort}`,
      ARSCAN_BACKENDS: `127.0.0.1:${arscanPort}`,
      // The first call of each route is computed for real (see the warm-up below).
      KEYPOINT_TIMEOUT_MS: '600000',
      IMAGE3D_TIMEOUT_MS: '600000',
    },
    /Server listening at (http:\/\/127\.0\.0\.1:\d+)/,
    [...START_FLAGS, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${join(root, 'bench/results/profile')}`] : [])],
    cwd,
    cpus,
  );
const gateway = await startGateway(1, args.profile);
const gatewayUrl = gateway.match[1]!;
const against = args.against ? await startGateway(1, false, args.against) : undefined;

// One real request per route computes the answers the backends then repeat; the keypoint
// answer is also what the ceiling sends back, so both answer the same bytes.
async function once(base: string, path: string, b: Body): Promise<Buffer> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': b.type }, body: readFileSync(b.file) });
  const out = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`warm-up ${path}: ${res.status} ${out.toString().slice(0, 300)}`);
  return out;
}
writeFileSync(join(work, 'answer.json'), await once(gatewayUrl, '/v1/keypoints', bodies.kpRaw));
for (const base of [gatewayUrl, ...(against ? [against.match[1]!] : [])]) {
  if (base !== gatewayUrl) await once(base, '/v1/keypoints', bodies.kpRaw);
  await once(base, '/v1/image3d/videos?duration_ms=1000', bodies.i3dRaw);
  await once(base, '/v1/arscan/models', bodies.arRaw);
}
// The references run under the node flags the gateway runs under: without --no-memory-reducer,
// the ceiling measured after the quiet spell of the floor runs spent twice the CPU a request it
// did fresh (0.19 against 0.09 ms, page faults 0.04 -> 2.8 a request), and the gateway's ratio
// to it read twice what it was (docs/performance.md, "the ceiling after a quiet spell").
const ceiling = await start('bench/ceiling.ts', [], { FIXED_ANSWER_FILE: join(work, 'answer.json') }, /ceiling listening on port (\d+)/, [...START_FLAGS], root, MEASURED_CPUS);
const ceilingUrl = `http://127.0.0.1:${ceiling.match[1]}`;

// ---- measuring ----
const TICK_MS = 1000 / 100; // USER_HZ
/** CPU time of a process and its children: a gateway with WORKERS > 1 is a primary and its workers. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS + children.reduce((sum, child) => sum + cpuMs(child), 0);
}
const nodeFlagsOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((arg) => /^--(?!import$)/.test(arg));
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
/** The event-loop delay since the last call: the gateway's from its /metrics, the ceiling's from its /loop. */
async function eventLoop(url: string): Promise<{ p99: number; max: number }> {
  if (url.startsWith(ceilingUrl)) {
    const loop = (await (await fetch(`${ceilingUrl}/loop`)).json()) as { p99_seconds: number; max_seconds: number };
    return { p99: loop.p99_seconds * 1000, max: loop.max_seconds * 1000 };
  }
  const text = await (await fetch(`${new URL(url).origin}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return { p99: read('nodejs_eventloop_lag_p99_seconds'), max: read('nodejs_eventloop_lag_max_seconds') };
}

interface Result {
  name: string;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  cpu_ms_per_request?: number;
  event_loop_p99_ms?: number;
  event_loop_max_ms?: number;
  rss_rise_per_inflight_x_payload?: number;
  errors: number;
  reference?: string;
  /** This run's figures ÷ those of its reference's run measured just before it. */
  vs_reference?: { rps: number; p99: number };
}

const warmed = new Set<string>();
async function wrk(name: string, url: string, b: Body, connections: number, pid: number, opts: { accept?: string; reference?: string; memory?: boolean; threads?: number } = {}): Promise<Result> {
  const load = (runSeconds: number) =>
    run(...pinned(OTHER_CPUS, 'wrk', [`-t${opts.threads ?? 1}`, `-c${connections}`, `-d${runSeconds}s`, '--timeout', '60s', '-s', join(root, 'bench/wrk-post.lua'), url]), {
      env: { ...process.env, BODY_FILE: b.file, CONTENT_TYPE: b.type, ACCEPT: opts.accept ?? '' },
    });
  // Memory is the rise from before the process first carried this load, warm-up included: after
  // it the heap and the buffer pool have grown already, and the run alone would show no rise.
  const rssBefore = rssMiB(pid);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMiB(pid))), 20);
  const warm = `${pid} ${url} ${b.file}`;
  if (warmupSeconds > 0 && !warmed.has(warm)) {
    warmed.add(warm);
    await load(warmupSeconds);
  }
  await eventLoop(url); // resets the histogram
  await sleep(300);
  let cpuBefore = cpuMs(pid);
  let w: { requests: number; duration_us: number; p50_us: number; p99_us: number; non2xx: number; socket_errors: number };
  // A run that got no answer in its time (a 1 s smoke run of a 2 MB upload on a machine busy
  // with other work) measured nothing: it runs again, twice as long each time.
  for (let runSeconds = seconds; ; runSeconds *= 2) {
    const { stdout: out } = await load(runSeconds);
    const line = /BENCH_JSON (.*)/.exec(out);
    if (!line) throw new Error(`wrk printed no result: ${out}`);
    w = JSON.parse(line[1]!) as typeof w;
    if (w.requests > 0 || runSeconds >= 8 * seconds) break;
    process.stderr.write(`  ${name}: no answer in ${runSeconds} s, again for ${2 * runSeconds} s\n`);
    cpuBefore = cpuMs(pid);
  }
  const cpu = cpuMs(pid) - cpuBefore;
  clearInterval(sampler);
  const result: Result = {
    name,
    rps: w.requests / (w.duration_us / 1e6),
    p50_ms: w.p50_us / 1000,
    p99_ms: w.p99_us / 1000,
    cpu_ms_per_request: cpu / Math.max(1, w.requests),
    errors: w.non2xx + w.socket_errors,
    ...(opts.reference ? { reference: opts.reference } : {}),
  };
  const loop = await eventLoop(url);
  result.event_loop_p99_ms = loop.p99;
  result.event_loop_max_ms = loop.max;
  if (opts.memory) result.rss_rise_per_inflight_x_payload = (rssPeak - rssBefore) / connections / (b.payload / MiB);
  const ref = opts.reference ? results.findLast((r) => r.name === opts.reference) : undefined;
  if (ref) result.vs_reference = { rps: result.rps / ref.rps, p99: result.p99_ms / ref.p99_ms };
  if (result.errors > 0) console.error(`${name}: ${result.errors} requests failed`);
  process.stderr.write(`  ${name}: ${result.rps.toFixed(0)} req/s\n`);
  return result;
}

/** The gateway's own Thrift client straight to a keypoint backend, no HTTP. */
async function floor(name: string, port: string, connections: number): Promise<Result> {
  const { stdout: out } = await run(...pinned(MEASURED_CPUS, process.execPath, [...START_FLAGS, '--import', 'tsx', join(root, 'bench/floor.ts'), `127.0.0.1:${port}`, bodies.kpRaw.file, String(connections), String(seconds), String(warmupSeconds)]));
  const f = JSON.parse(out) as { calls: number; seconds: number; p50_us: number; p99_us: number; cpu_ms_per_call: number };
  process.stderr.write(`  ${name}: ${(f.calls / f.seconds).toFixed(0)} calls/s\n`);
  return { name, rps: f.calls / f.seconds, p50_ms: f.p50_us / 1000, p99_ms: f.p99_us / 1000, cpu_ms_per_request: f.cpu_ms_per_call, errors: 0 };
}

const gw = gateway.child.pid!;
const ce = ceiling.child.pid!;
const KP = 16;
const AR = 2;
console.error(`bench: ${seconds} s per run; keypoint JPEG ${(keypointJpeg.length / 1024).toFixed(0)} KiB, image3d JPEG ${(image3dJpeg.length / MiB).toFixed(2)} MiB, capture set ${photos.length} photos, zip ${(captureZip.length / MiB).toFixed(1)} MiB`);
const results: Result[] = [];
const only = args.only ? new RegExp(args.only) : undefined;
const wanted = (name: string) => !only || only.test(name);
/** How to measure each reference again, by name. */
const references = new Map<string, () => Promise<Result>>();
/** A ceiling run that gateway runs are compared with: measured now, and again before each later round of theirs. */
async function reference(name: string, path: string, b: Body, connections: number, opts: Parameters<typeof wrk>[5] = {}): Promise<void> {
  const measure = () => wrk(name, `${ceilingUrl}${path}`, b, connections, ce, opts);
  references.set(name, measure);
  results.push(await measure());
}
/**
 * A run on the gateway, with `--against` also on the other checkout's gateway in turns, `--rounds` times over (the results keep every round).
 * Each round's gateway run comes right after a run of its reference: this machine's speed moves
 * within minutes (the ceiling at 0.08-0.23 ms of CPU a request), and a ratio to a reference
 * measured rounds earlier moved with it more than with the gateway.
 */
async function gatewayRun(name: string, path: string, b: Body, connections: number, opts: Parameters<typeof wrk>[5] = {}): Promise<void> {
  const { reference: _, ...alone } = opts;
  for (let round = 0; round < Number(args.rounds); round++) {
    // One after the other, each with the measured core to itself, in turns (ABBA): run at the
    // same time, the two shared that core, and the switching between them cost each more CPU
    // per request than the change being measured (2026-11-28: a change worth -15 % alone
    // measured as +3 % side by side). The median over the rounds evens out the machine's drift.
    const again = round > 0 && opts.reference ? references.get(opts.reference) : undefined;
    const runHere = async () => {
      if (again) results.push(await again());
      results.push(await wrk(name, `${gatewayUrl}${path}`, b, connections, gw, opts));
    };
    const runThere = async () => {
      if (against) results.push(await wrk(`${name} [against]`, `${against.match[1]}${path}`, b, connections, against.child.pid!, alone));
    };
    for (const step of round % 2 === 0 ? [runHere, runThere] : [runThere, runHere]) await step();
  }
}
const FLOOR = 'floor: keypoint Detect over Thrift to the replay backend, no HTTP';
if (wanted(FLOOR)) results.push(await floor(FLOOR, keypointPort, KP));
// The second reference: the Node reference backend itself in its precomputed mode.
const NODE_FLOOR = 'floor: keypoint Detect over Thrift to the Node reference backend (precomputed), no HTTP';
if (wanted(NODE_FLOOR) && keypoint!.upstream) results.push(await floor(NODE_FLOOR, keypoint!.upstream, KP));
if (wanted('ceiling: raw JPEG')) await reference('ceiling: raw JPEG', '/raw', bodies.kpRaw, KP);
if (wanted('keypoints raw JPEG')) await gatewayRun('keypoints raw JPEG', `/v1/keypoints`, bodies.kpRaw, KP, { reference: 'ceiling: raw JPEG' });
if (wanted('ceiling: multipart JPEG')) await reference('ceiling: multipart JPEG', '/multipart', bodies.kpMultipart, KP);
if (wanted('keypoints multipart JPEG')) await gatewayRun('keypoints multipart JPEG', `/v1/keypoints`, bodies.kpMultipart, KP, { reference: 'ceiling: multipart JPEG' });
if (wanted('ceiling: plain Fastify JSON, base64 JPEG')) await reference('ceiling: plain Fastify JSON, base64 JPEG', '/json', bodies.kpJson, KP);
if (wanted('ceiling: gateway JSON path, base64 JPEG')) results.push(await wrk('ceiling: gateway JSON path, base64 JPEG', `${ceilingUrl}/json-from-bytes`, bodies.kpJson, KP, ce, { reference: 'ceiling: plain Fastify JSON, base64 JPEG' }));
if (wanted('keypoints base64 JSON')) await gatewayRun('keypoints base64 JSON', `/v1/keypoints`, bodies.kpJson, KP, { reference: 'ceiling: plain Fastify JSON, base64 JPEG' });
if (wanted('ceiling: raw 1 MB JPEG')) await reference('ceiling: raw 1 MB JPEG', '/raw', bodies.i3dRaw, 8);
if (wanted('image3d raw 1 MB JPEG')) await gatewayRun('image3d raw 1 MB JPEG', `/v1/image3d/videos?duration_ms=1000`, bodies.i3dRaw, 8, { reference: 'ceiling: raw 1 MB JPEG' });
const setLabel = `${(captureZip.length / MiB).toFixed(0)} MB`;
if (wanted(`ceiling: raw ${setLabel} zip`)) await reference(`ceiling: raw ${setLabel} zip`, '/raw', bodies.arRaw, AR, { memory: true });
if (wanted(`arscan raw ${setLabel} zip`)) await gatewayRun(`arscan raw ${setLabel} zip`, `/v1/arscan/models`, bodies.arRaw, AR, { memory: true, reference: `ceiling: raw ${setLabel} zip` });
if (wanted(`arscan multipart ${setLabel} zip`)) await gatewayRun(`arscan multipart ${setLabel} zip`, `/v1/arscan/models`, bodies.arMultipart, AR, { memory: true, reference: `ceiling: raw ${setLabel} zip` });
if (wanted(`arscan base64 JSON ${setLabel} zip`)) await gatewayRun(`arscan base64 JSON ${setLabel} zip`, `/v1/arscan/models`, bodies.arJson, AR, { memory: true, reference: `ceiling: raw ${setLabel} zip` });

// The longest synchronous step for a big payload: one request at a time, so that the event
// loop's delay is the gateway's own and not the CPU it shares with the load under way.
// The ceiling reading the same zip is the reference: what reading a body that big costs Node alone.
const oneRef = `ceiling: raw ${setLabel} zip, one at a time`;
if (wanted(oneRef)) await reference(oneRef, '/raw', bodies.arRaw, 1);
for (const [form, b] of [['raw', bodies.arRaw], ['multipart', bodies.arMultipart], ['base64 JSON', bodies.arJson]] as const) {
  const name = `arscan ${form} ${setLabel} zip, one at a time`;
  if (wanted(name)) await gatewayRun(name, `/v1/arscan/models`, b, 1, { reference: oneRef });
}

// ---- every core: raw keypoints with 1, 2, 4 ... gateway processes (--workers 1,2,4) ----
const workerCounts = args.workers ? args.workers.split(',').map(Number) : [];
const workersRun = (n: number) => `keypoints raw JPEG, WORKERS=${n}`;
for (const n of workerCounts) {
  // Several gateway processes are not pinned: they take what the scheduler gives them.
  const gw = await startGateway(n, false, root, pin ? `0-${cores - 1}` : MEASURED_CPUS);
  results.push(
    await wrk(workersRun(n), `${gw.match[1]}/v1/keypoints`, bodies.kpRaw, KP * n, gw.child.pid!, {
      threads: Math.min(n, 4),
      ...(n === workerCounts[0] ? {} : { reference: workersRun(workerCounts[0]!) }),
    }),
  );
  gw.child.removeAllListeners('exit');
  const exited = new Promise((resolve) => gw.child.once('exit', resolve));
  gw.child.kill('SIGTERM');
  await exited;
}

// ---- the table, the targets, the JSON ----
const byName = new Map(results.map((r) => [r.name, r]));
const times = (x: number | undefined) => (x === undefined ? '' : `${x.toFixed(2)}×`);
const ratio = (a: number, b: number | undefined) => (b ? times(a / b) : '');
const median = (xs: number[]) => {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = sorted.length / 2;
  return sorted.length === 0 ? NaN : Number.isInteger(mid) ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[Math.floor(mid)]!;
};
const f1 = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? '' : n.toFixed(digits));
const table = [
  '| run | req/s | p50 ms | p99 ms | CPU ms/req | loop p99 ms | loop max ms | RSS rise / in flight | reference | req/s vs ref | p99 vs ref |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.name} | ${r.rps.toFixed(0)} | ${f1(r.p50_ms, 2)} | ${f1(r.p99_ms, 2)} | ${f1(r.cpu_ms_per_request, 2)} | ${f1(r.event_loop_p99_ms)} | ${f1(r.event_loop_max_ms)} | ${r.rss_rise_per_inflight_x_payload === undefined ? '' : `${r.rss_rise_per_inflight_x_payload.toFixed(2)}× payload`} | ${r.reference ?? ''} | ${times(r.vs_reference?.rps)} | ${times(r.vs_reference?.p99)} |`,
  ),
];
const floorRun = byName.get(FLOOR);
const kpRaw = byName.get('keypoints raw JPEG');
if (floorRun && kpRaw) table.push('', `Gateway raw keypoints vs the Thrift floor: ${ratio(kpRaw.rps, floorRun.rps)} the throughput.`);
// What one core could serve if the gateway spent nothing beyond the ceiling's HTTP and the
// floor's Thrift call: the most the raw-keypoints target could come to on this machine.
const rawCeiling = byName.get('ceiling: raw JPEG');
if (floorRun?.cpu_ms_per_request && rawCeiling?.cpu_ms_per_request && kpRaw?.cpu_ms_per_request) {
  const bound = rawCeiling.cpu_ms_per_request + floorRun.cpu_ms_per_request;
  table.push(
    '',
    `CPU per request: the ceiling's HTTP ${rawCeiling.cpu_ms_per_request.toFixed(2)} ms + the floor's Thrift call ${floorRun.cpu_ms_per_request.toFixed(2)} ms = ${bound.toFixed(2)} ms, ` +
      `${(rawCeiling.cpu_ms_per_request / bound).toFixed(2)}× the ceiling's throughput for a gateway that did nothing else; the gateway spends ${kpRaw.cpu_ms_per_request.toFixed(2)} ms.`,
  );
}

const target = (what: string, value: number, limit: number, atLeast: boolean) => ({ what, value: Number(value.toFixed(3)), limit, met: atLeast ? value >= limit : value <= limit });
/** A run against its reference: the median over the rounds of each round's ratio to the reference run just before it. */
const rel = (name: string, field: 'rps' | 'p99') => median(results.flatMap((r) => (r.name === name && r.vs_reference ? [r.vs_reference[field]] : [])));
// The first round's rise: later rounds find the first one's buffers already there.
const rss = (name: string) => {
  const rises = results.flatMap((r) => (r.name === name && r.rss_rise_per_inflight_x_payload !== undefined ? [r.rss_rise_per_inflight_x_payload] : []));
  return rises.length ? Math.max(...rises) : NaN;
};
// A target whose runs were left out (--only) is left out too.
const targets = [
  target('raw keypoints: req/s ÷ ceiling', rel('keypoints raw JPEG', 'rps'), 0.5, true),
  target('raw keypoints: p99 ÷ ceiling', rel('keypoints raw JPEG', 'p99'), 2, false),
  target('multipart keypoints: req/s ÷ ceiling', rel('keypoints multipart JPEG', 'rps'), 0.5, true),
  target('multipart keypoints: p99 ÷ ceiling', rel('keypoints multipart JPEG', 'p99'), 2, false),
  target('base64 JSON keypoints: req/s ÷ plain Fastify JSON', rel('keypoints base64 JSON', 'rps'), 1.5, true),
  target('the JSON path alone (no RPC): req/s ÷ plain Fastify JSON', rel('ceiling: gateway JSON path, base64 JPEG', 'rps'), 1.5, true),
  target(`arscan raw ${setLabel}: RSS rise per request in flight ÷ payload`, rss(`arscan raw ${setLabel} zip`), 2, false),
  target(`arscan multipart ${setLabel}: RSS rise per request in flight ÷ payload`, rss(`arscan multipart ${setLabel} zip`), 2, false),
  target(`arscan base64 JSON ${setLabel}: RSS rise per request in flight ÷ payload`, rss(`arscan base64 JSON ${setLabel} zip`), 3, false),
  ...results
    .filter((r) => r.name.startsWith('arscan') && r.name.endsWith('one at a time'))
    .map((r) => target(`${r.name}: longest event-loop stall, ms`, r.event_loop_max_ms!, 20, false)),
  // N workers should serve at least 0.8·N times what the first count serves, while N fits in
  // the cores left over after wrk and the replay backend (one each).
  ...workerCounts
    .slice(1)
    .filter((n) => n <= cpus().length - 2)
    .map((n) => target(`${workersRun(n)}: req/s ÷ WORKERS=${workerCounts[0]}, per worker added`, rel(workersRun(n), 'rps') / (n / workerCounts[0]!), 0.8, true)),
].filter((t) => !Number.isNaN(t.value));
table.push('', '| target | figure | limit | met |', '|---|---|---|---|', ...targets.map((t) => `| ${t.what} | ${t.value} | ${t.limit} | ${t.met ? 'yes' : 'NO'} |`));
if (workerCounts.length > 1 && !workerCounts.slice(1).some((n) => n <= cpus().length - 2)) {
  table.push('', `WORKERS scaling has no target here: ${cpus().length} cores leave ${Math.max(0, cpus().length - 2)} for gateway workers once wrk and the backend have theirs.`);
}
// --against: each run beside its base, as the median over the rounds of this run's figure ÷ the base's.
if (against) {
  table.push('', `Against ${args.against}, median over ${args.rounds} round(s) of (this ÷ against):`, '', '| run | CPU ms/req here | against | CPU ms/req ratio | req/s ratio |', '|---|---|---|---|---|');
  for (const name of new Set(results.filter((r) => r.name.endsWith(' [against]')).map((r) => r.name.slice(0, -' [against]'.length)))) {
    const here = results.filter((r) => r.name === name);
    const base = results.filter((r) => r.name === `${name} [against]`);
    const pairs = here.map((r, i) => [r, base[i]!] as const);
    const cpu = (rs: readonly Result[]) => median(rs.map((r) => r.cpu_ms_per_request!));
    table.push(`| ${name} | ${cpu(here).toFixed(2)} | ${cpu(base).toFixed(2)} | ${median(pairs.map(([r, b]) => r.cpu_ms_per_request! / b.cpu_ms_per_request!)).toFixed(3)} | ${median(pairs.map(([r, b]) => r.rps / b.rps)).toFixed(3)} |`);
  }
}
console.log(table.join('\n'));

const report = {
  date: new Date().toISOString(),
  smoke,
  seconds_per_run: seconds,
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  pinned: pin,
  /** The node flags each long-lived measured process runs with, from its command line. */
  node_flags: { gateway: nodeFlagsOf(gw), ceiling: nodeFlagsOf(ce) },
  payloads: { keypoint_jpeg_bytes: keypointJpeg.length, image3d_jpeg_bytes: image3dJpeg.length, capture_zip_bytes: captureZip.length, capture_photos: photos.length },
  connections: { keypoints: KP, image3d: 8, arscan: AR },
  results,
  targets,
};
const outDir = join(root, 'bench/results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, smoke ? 'smoke.json' : 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
if (args.profile) {
  // The profile is written when the gateway exits on its own.
  gateway.child.removeAllListeners('exit');
  const exited = new Promise((resolve) => gateway.child.once('exit', resolve));
  gateway.child.kill('SIGTERM');
  await exited;
  console.error('CPU profile written to bench/results/profile/');
}
process.exit(0);
