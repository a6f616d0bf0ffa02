import sharp from 'sharp';
import { WorkerJobs } from '../worker-thread.js';
import type { FoundFace, MeshJob } from './mesh-worker.js';

/** Why a photo was refused, for the backend's status code. */
export class DetectRefusal extends Error {
  constructor(
    readonly reason: 'undecodable' | 'size',
    message: string,
  ) {
    super(message);
  }
}

export interface Detection {
  width: number;
  height: number;
  faces: FoundFace[];
}

/**
 * Larger photos are scaled down to this side before the model sees them. The detector reads
 * the whole photo at 256 px anyway, and the mesh a 192-px crop per face: a face of a seventh
 * of the photo's side or more still gives the mesh all the pixels it reads. Time and memory
 * stay bounded: the detector's rotation correction turns the whole photo once per
 * tilted face (1.5–2 s for five faces at 1920 px here, 1 s at 1280), and WebAssembly memory
 * grows to the largest photo seen and never shrinks.
 */
const MODEL_SIDE = 1280;
// idl/keypoint.thrift states it in a comment only (not a generated constant).
const IMAGE_SIDE = { min: 32, max: 4096 };

/** Faces and their landmarks by a neural face mesh, computed in a worker thread. */
export class FaceDetector {
  private constructor(private readonly jobs: WorkerJobs<MeshJob, FoundFace[]>) {}

  /** Resolves once the models are loaded (seconds): a backend serves no call before. */
  static async create(): Promise<FaceDetector> {
    const jobs = new WorkerJobs<MeshJob, FoundFace[]>(import.meta.url, 'mesh-worker');
    await jobs.ready();
    return new FaceDetector(jobs);
  }

  /** Decoded here (sharp works off the event loop), inferred in the worker. */
  async detect(image: Buffer, maxFaces: number): Promise<Detection> {
    let meta;
    try {
      meta = await sharp(image).metadata();
    } catch (err) {
      throw new DetectRefusal('undecodable', `image could not be decoded: ${(err as Error).message}`);
    }
    const width = meta.autoOrient?.width ?? meta.width ?? 0;
    const height = meta.autoOrient?.height ?? meta.height ?? 0;
    const { min, max } = IMAGE_SIDE;
    if (Math.min(width, height) < min || Math.max(width, height) > max) {
      throw new DetectRefusal('size', `image is ${width}x${height}; sides must be ${min}..${max}`);
    }
    const scale = Math.min(1, MODEL_SIDE / Math.max(width, height));
    let decoded;
    try {
      decoded = await sharp(image)
        .autoOrient()
        .resize(Math.round(width * scale), Math.round(height * scale))
        .removeAlpha()
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true });
    } catch (err) {
      throw new DetectRefusal('undecodable', `image could not be decoded: ${(err as Error).message}`);
    }
    // A copy of its own, handed over to the worker without another.
    const rgb = new Uint8Array(decoded.data);
    const job = { rgb, width: decoded.info.width, height: decoded.info.height, maxFaces, scale: decoded.info.width / width };
    return { width, height, faces: await this.jobs.run(job, [rgb.buffer as ArrayBuffer]) };
  }

  close(): Promise<void> {
    return this.jobs.close();
  }
}
