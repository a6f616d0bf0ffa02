// A short TypeScript client for visiongate (Node 20+), typed from the OpenAPI document with openapi-fetch.
// Run it against `npm start`:  npx tsx examples/client.ts [BASE_URL]   (API_KEY from the environment)
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import createClient from 'openapi-fetch';
import type { components, paths } from './visiongate-api.js';

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

type Schemas = components['schemas'];
export type Image3dOptions = Schemas['Image3dOptions'];
export type ArscanOptions = Schemas['ArscanOptions'];
/** A job (long work accepted at once): see docs/jobs.md. */
export type Job = Schemas['Job'];
type Photo = { name: string; data: Uint8Array };

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/**
 * The calls in JSON, typed from the OpenAPI document (visiongate-api.d.ts, made by
 * openapi-typescript): a change of the API that this code does not follow fails its type-check.
 * Photos go as base64; the routes also take multipart and raw bodies (see examples/curl).
 */
export class Visiongate {
  private readonly api;

  constructor(baseUrl = 'http://localhost:8080', apiKey?: string) {
    this.api = createClient<paths, 'application/json' | 'application/problem+json'>({
      baseUrl,
      headers: { accept: 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    });
  }

  /** Faces and their 106 landmarks in one JPEG or PNG. */
  async keypoints(image: Uint8Array, maxFaces = 1) {
    return answer(await this.api.POST('/v1/keypoints', { body: { image: base64(image), max_faces: maxFaces } }));
  }

  /** A video (MP4 or GIF) with 3D camera motion from one photo. */
  async image3dVideo(image: Uint8Array, options: Image3dOptions = {}): Promise<Uint8Array> {
    const done = answer(await this.api.POST('/v1/image3d/videos', { body: { image: base64(image), ...options } }));
    if ('id' in done) throw new Error('a job, though none was asked for');
    return Buffer.from(done.video, 'base64');
  }

  /** A zip holding a textured 3D model, from photos of an object. */
  async arscanModel(photos: Photo[], options: ArscanOptions = {}): Promise<Uint8Array> {
    const done = answer(await this.api.POST('/v1/arscan/models', { body: { images: photos.map(encoded), ...options } }));
    if ('id' in done) throw new Error('a job, though none was asked for');
    return Buffer.from(done.model_zip, 'base64');
  }

  /**
   * The same reconstruction as a job: answered at once (202) with the job, whose result is
   * fetched later (see waitForJob). A retry with the same idempotency key gives the same job.
   */
  async submitArscanJob(photos: Photo[], options: ArscanOptions = {}, idempotencyKey?: string): Promise<Job> {
    const header = { prefer: 'respond-async', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) };
    const accepted = answer(await this.api.POST('/v1/arscan/models', { params: { header }, body: { images: photos.map(encoded), ...options } }));
    if (!('id' in accepted)) throw new Error('answered at once, though a job was asked for');
    return accepted;
  }

  /**
   * Polls a job until it has finished (waiting as its `Retry-After` says), then returns its
   * model zip. A failed job throws its problem as a VisiongateError; so does a canceled or
   * expired one.
   */
  async waitForJob(job: Job, { timeoutMs = 15 * 60_000 } = {}): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    const path = { id: job.id };
    let current = job;
    while (current.status === 'queued' || current.status === 'running') {
      if (Date.now() > deadline) throw new Error(`job ${job.id} did not finish within ${timeoutMs} ms`);
      const polled = await this.api.GET('/v1/jobs/{id}', { params: { path } });
      current = answer(polled);
      const after = Number(polled.response.headers.get('retry-after') ?? 1);
      if (current.status === 'queued' || current.status === 'running') await new Promise((r) => setTimeout(r, Math.min(after, 5) * 1000));
    }
    const result = answer(await this.api.GET('/v1/jobs/{id}/result', { params: { path } }));
    if (!('model_zip' in result)) throw new Error(`job ${job.id} is not a reconstruction`);
    return Buffer.from(result.model_zip, 'base64');
  }
}

const encoded = (photo: Photo) => ({ name: photo.name, data: base64(photo.data) });

/** The answer, or the problem as a VisiongateError. */
function answer<T>(result: { data?: T; error?: Schemas['Problem']; response: Response }): T {
  if (result.data !== undefined) return result.data;
  const { response, error } = result;
  throw new VisiongateError(response.status, error?.code ?? 'UNKNOWN', error?.message ?? response.statusText, error?.logid ?? response.headers.get('x-tt-logid') ?? '');
}

// Run directly: one call of each kind, with the sample photos beside this file.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const client = new Visiongate(process.argv[2] ?? process.env.BASE_URL ?? 'http://localhost:8080', process.env.API_KEY);
  const photos = new URL('./photos/', import.meta.url);
  const photo = readFileSync(new URL('astronaut.jpg', photos));
  const { faces } = await client.keypoints(photo, 3);
  console.log(`keypoints: ${faces.length} face(s), first with ${faces[0]?.landmarks.length ?? 0} landmarks`);
  const video = await client.image3dVideo(photo, { duration_ms: 1000, format: 'gif' });
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
