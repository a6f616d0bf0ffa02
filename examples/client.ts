// A short TypeScript client for visiongate (Node 20+, or any runtime with fetch, FormData and Blob).
// Run it against `npm start`:  npx tsx examples/client.ts [BASE_URL]   (API_KEY from the environment)
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A problem+json answer: its code, message and the log id to quote to us. */
export class VisiongateError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly logid: string,
  ) {
    super(`${status} ${code}: ${message} (logid ${logid})`);
  }
}

export interface Face {
  rect: { left: number; top: number; width: number; height: number };
  score: number;
  landmarks: Array<[number, number]>;
}

/** A job (long work accepted at once): see docs/jobs.md. */
export interface Job {
  id: string;
  kind: 'arscan' | 'image3d';
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'expired';
  queue_position: number | null;
  logid: string;
  result_url: string | null;
}

export class Visiongate {
  constructor(
    private readonly baseUrl = 'http://localhost:8080',
    private readonly apiKey?: string,
  ) {}

  /** Faces and their 106 landmarks in one JPEG or PNG. */
  async keypoints(image: Uint8Array, maxFaces = 1): Promise<{ logid: string; image: { width: number; height: number }; faces: Face[] }> {
    // The gateway reads the format (JPEG or PNG) from the bytes.
    const res = await this.post(`/v1/keypoints?max_faces=${maxFaces}`, image, 'application/octet-stream');
    return (await res.json()) as Awaited<ReturnType<Visiongate["keypoints"]>>;
  }

  /** A video (MP4 or GIF) with 3D camera motion from one photo. */
  async image3dVideo(image: Uint8Array, options: { motion?: string; durationMs?: number; format?: 'mp4' | 'gif' } = {}): Promise<Uint8Array> {
    const query = new URLSearchParams({
      ...(options.motion ? { motion: options.motion } : {}),
      ...(options.durationMs ? { duration_ms: String(options.durationMs) } : {}),
      ...(options.format ? { format: options.format } : {}),
    });
    return new Uint8Array(await (await this.post(`/v1/image3d/videos?${query}`, image, 'application/octet-stream')).arrayBuffer());
  }

  /** A zip holding a textured 3D model, from photos of an object (sent as multipart files). */
  async arscanModel(photos: Array<{ name: string; data: Uint8Array }>, format: 'glb' | 'obj' = 'glb'): Promise<Uint8Array> {
    const form = new FormData();
    for (const photo of photos) form.append('images', new Blob([photo.data]), photo.name);
    form.set('format', format);
    return new Uint8Array(await (await this.post('/v1/arscan/models', form)).arrayBuffer());
  }

  /**
   * The same reconstruction as a job: answered at once (202) with the job, whose result is
   * fetched later (see waitForJob). A retry with the same idempotency key gives the same job.
   */
  async submitArscanJob(photos: Array<{ name: string; data: Uint8Array }>, format: 'glb' | 'obj' = 'glb', idempotencyKey?: string): Promise<Job> {
    const form = new FormData();
    for (const photo of photos) form.append('images', new Blob([photo.data]), photo.name);
    form.set('format', format);
    const headers: Record<string, string> = { prefer: 'respond-async', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) };
    return (await (await this.request('POST', '/v1/arscan/models', form, headers)).json()) as Job;
  }

  /**
   * Polls a job until it has finished (waiting as its `Retry-After` says), then returns its
   * result: the bytes the synchronous route would have answered. A failed job throws its
   * problem as a VisiongateError; so does a canceled or expired one.
   */
  async waitForJob(job: Job, { timeoutMs = 15 * 60_000 } = {}): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    let current = job;
    while (current.status === 'queued' || current.status === 'running') {
      if (Date.now() > deadline) throw new Error(`job ${job.id} did not finish within ${timeoutMs} ms`);
      const res = await this.request('GET', `/v1/jobs/${job.id}`);
      current = (await res.json()) as Job;
      const after = Number(res.headers.get('retry-after') ?? 1);
      if (current.status === 'queued' || current.status === 'running') await new Promise((r) => setTimeout(r, Math.min(after, 5) * 1000));
    }
    return new Uint8Array(await (await this.request('GET', `/v1/jobs/${job.id}/result`)).arrayBuffer());
  }

  private post(path: string, body: Uint8Array | FormData, contentType?: string): Promise<Response> {
    return this.request('POST', path, body, contentType ? { 'content-type': contentType } : {});
  }

  private async request(method: string, path: string, body?: Uint8Array | FormData, extra: Record<string, string> = {}): Promise<Response> {
    const headers: Record<string, string> = { ...extra };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, ...(body ? { body } : {}) });
    if (res.ok) return res;
    const problem = (await res.json().catch(() => ({}))) as { code?: string; message?: string; logid?: string };
    throw new VisiongateError(res.status, problem.code ?? 'UNKNOWN', problem.message ?? res.statusText, problem.logid ?? res.headers.get('x-tt-logid') ?? '');
  }
}

// Run directly: one call of each kind, with the sample photos beside this file.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const client = new Visiongate(process.argv[2] ?? process.env.BASE_URL ?? 'http://localhost:8080', process.env.API_KEY);
  const photos = new URL('./photos/', import.meta.url);
  const photo = readFileSync(new URL('astronaut.jpg', photos));
  const { faces } = await client.keypoints(photo, 3);
  console.log(`keypoints: ${faces.length} face(s), first with ${faces[0]?.landmarks.length ?? 0} landmarks`);
  const video = await client.image3dVideo(photo, { durationMs: 1000, format: 'gif' });
  writeFileSync('image3d.gif', video);
  console.log(`image3d: ${video.length} bytes, saved as image3d.gif`);
  const model = await client.arscanModel(readdirSync(photos).map((name) => ({ name, data: readFileSync(new URL(name, photos)) })));
  writeFileSync('model.zip', model);
  console.log(`arscan: ${model.length} bytes, saved as model.zip`);
  const job = await client.submitArscanJob(readdirSync(photos).map((name) => ({ name, data: readFileSync(new URL(name, photos)) })));
  const jobModel = await client.waitForJob(job);
  console.log(`arscan as a job (${job.id}): ${jobModel.length} bytes`);
  try {
    await client.keypoints(new TextEncoder().encode('not a photo'));
  } catch (err) {
    console.log(`and a refusal: ${(err as Error).message}`);
  }
}
