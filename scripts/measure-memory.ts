// How much the gateway's RSS rises while it holds one capture-set upload, per input form:
// `npm run measure:memory`. The gateway runs as its own process (as in production), the
// arscan backend is a stand-in that holds each call for a second and answers a small zip, so
// only the gateway's copies of the payload are measured. Sizes in MiB; "× payload" is the rise
// divided by the payload's size (the zip's or the photos').
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import ArScanService from '../gen/thrift/ArScanService.js';
import arscan from '../gen/thrift/arscan_types.js';
import base from '../gen/thrift/base_types.js';
import { writeZip } from '../src/shared/write-zip.js';
import { serveThrift } from '../src/shared/thrift-server.js';
import { START_FLAGS } from './start-flags.js';

const MiB = 1024 * 1024;
const rss = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const photoSide = Number(process.env.PHOTO_SIDE ?? 2500);
const photos = await Promise.all(
  [0, 1, 2].map(async (i) => [`photo-${i}.png`, await sharp(randomBytes(photoSide * photoSide * 3), { raw: { width: photoSide, height: photoSide, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer()] as [string, Buffer]),
);
const zip = await writeZip(photos.map(([n, d]) => [n, d, false]));
const payload = zip.length / MiB;

const backend = await serveThrift(
  ArScanService.Processor,
  {
    Reconstruct: async (_req: arscan.ReconstructRequest) => {
      await sleep(1000);
      return new arscan.ReconstructResponse({ model_zip: await writeZip([['model.glb', Buffer.from('glTF')]]), model_format: 'glb', vertex_count: 4, images_used: 3, BaseResp: new base.BaseResp({ StatusCode: 0 }) });
    },
  },
  { host: '127.0.0.1', port: 0, transport: 'framed', protocol: 'binary', maxFrameBytes: 1024 * MiB },
);
const address = `127.0.0.1:${backend.port}`;

const forms: Record<string, () => { body: RequestInit['body']; headers: Record<string, string> }> = {
  'raw zip': () => ({ body: zip, headers: { 'content-type': 'application/zip' } }),
  'multipart archive': () => {
    const form = new FormData();
    form.set('archive', new Blob([zip]), 'set.zip');
    return { body: form, headers: {} };
  },
  'multipart images': () => {
    const form = new FormData();
    for (const [name, data] of photos) form.append('images', new Blob([data]), name);
    return { body: form, headers: {} };
  },
  'JSON archive (base64)': () => ({ body: JSON.stringify({ archive: zip.toString('base64') }), headers: { 'content-type': 'application/json' } }),
  'JSON images (base64)': () => ({
    body: JSON.stringify({ images: photos.map(([name, data]) => ({ name, data: data.toString('base64') })) }),
    headers: { 'content-type': 'application/json' },
  }),
};

const REPEAT = 3;
console.log(`payload: ${payload.toFixed(1)} MiB (3 incompressible ${photoSide}² PNGs, stored in a zip)\n`);
console.log(`| form (median of ${REPEAT}) | RSS before | peak during | rise | × payload |`);
console.log('|---|---|---|---|---|');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [form, make] of Object.entries(forms)) {
  const runs: Array<{ before: number; peak: number }> = [];
  for (let i = 0; i < REPEAT; i++) runs.push(await measure(form, make));
  const rise = median(runs.map((r) => r.peak - r.before));
  const before = median(runs.map((r) => r.before));
  console.log(`| ${form} | ${before.toFixed(0)} MiB | ${(before + rise).toFixed(0)} MiB | ${rise.toFixed(0)} MiB | ${(rise / payload).toFixed(2)}× |`);
}
await backend.close();
process.exit(0);

/** One upload to a fresh gateway: its RSS before, and at its highest while the upload is held. */
async function measure(form: string, make: () => { body: RequestInit['body']; headers: Record<string, string> }): Promise<{ before: number; peak: number }> {
  const server = spawn(process.execPath, [...START_FLAGS, '--import', 'tsx', fileURLToPath(new URL('../src/server.ts', import.meta.url))], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', KEYPOINT_BACKENDS: address, IMAGE3D_BACKENDS: address, ARSCAN_BACKENDS: address },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve) =>
    server.stdout.on('data', (c: Buffer) => {
      out = (out + c.toString()).slice(-10_000);
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    }),
  );
  await fetch(`${url}/healthz`);
  await sleep(1000);
  const { body, headers } = make(); // built before measuring: the client's copy is not the gateway's
  const before = rss(server.pid!);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rss(server.pid!))), 10);
  const res = await fetch(`${url}/v1/arscan/models`, { method: 'POST', headers, body });
  await res.arrayBuffer();
  clearInterval(sampler);
  if (res.status !== 200) throw new Error(`${form}: ${res.status}`);
  server.kill('SIGKILL');
  await sleep(200);
  return { before, peak };
}
