// The Thrift floor of `npm run bench`: the keypoint load sent straight to the backend by the
// gateway's own Thrift client, with no HTTP in between. argv: address, image file, concurrency,
// seconds, warm-up seconds (unmeasured, as the bench warms every process). Prints one JSON line:
// calls, seconds, p50/p99 latency in µs, CPU ms per call (all of this process's threads).

// As the gateway runs (see src/v8-tuning.ts), so that the floor is its client's floor.
import '../src/v8-tuning.js';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import keypoint from '../gen/thrift/keypoint_types.js';
import { loadConfig } from '../src/config/load.js';
import { baseInterceptor, errorInterceptor } from '../src/rpc/interceptors.js';
import { RpcClient } from '../src/rpc/rpc-client.js';

const [address, imageFile, concurrency, seconds, warmup = '0'] = process.argv.slice(2) as [string, string, string, string, string?];
const image = readFileSync(imageFile);
const client = new RpcClient(loadConfig({ KEYPOINT_BACKENDS: address, IMAGE3D_BACKENDS: address, ARSCAN_BACKENDS: address }), [
  errorInterceptor,
  baseInterceptor('bench'),
]);
const ctx = { logid: 'bench', clientAddr: '127.0.0.1', log: pino({ level: 'silent' }) };
/** `concurrency` callers, each calling again as soon as its answer is in, for `ms`; the latencies. */
async function load(ms: number): Promise<number[]> {
  const latencies: number[] = [];
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: Number(concurrency) }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await client.call('keypoint', 'Detect', new keypoint.DetectRequest({ image, max_faces: 10 }), ctx);
        latencies.push((performance.now() - t) * 1000);
      }
    }),
  );
  return latencies;
}
await load(Number(warmup) * 1000);
const started = performance.now();
const cpu = process.cpuUsage();
const latencies = await load(Number(seconds) * 1000);
const { user, system } = process.cpuUsage(cpu);
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!);
console.log(JSON.stringify({ calls: latencies.length, seconds: elapsed, p50_us: at(0.5), p99_us: at(0.99), cpu_ms_per_call: (user + system) / 1000 / latencies.length }));
client.close();
