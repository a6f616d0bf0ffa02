import HME from 'h264-mp4-encoder';
import gifenc from 'gifenc';
import sharp, { type Metadata } from 'sharp';
import { cameraAt, renderFrame, type Motion } from './camera.js';
import { estimateNearness } from './depth.js';

export type VideoFormat = 'mp4' | 'gif';

export interface RenderJob {
  image: Uint8Array;
  speed: number;
  motion: Motion;
  durationMs: number;
  format: VideoFormat;
}

export interface RenderResult {
  video: Uint8Array;
  mimeType: string;
  frameCount: number;
  depthPng: Uint8Array;
}

/** Why a render was refused, for the backend's status code. */
export class RenderRefusal extends Error {
  constructor(
    readonly reason: 'undecodable' | 'size',
    message: string,
  ) {
    super(message);
  }
}

/** Frames per second of every video; GIF delays are whole centiseconds, so 20 fps is exact. */
export const FPS = 20;
/** Longest side of the rendered video: bounds the work and memory whatever the photo's size. */
const MAX_SIDE: Record<VideoFormat, number> = { mp4: 320, gif: 240 };
const SIDE = { min: 64, max: 4096 };

/**
 * Photo → depth map → frames along the camera path → encoded video. The video plays for
 * durationMs / speed: `speed` sets how many frames the same camera path is cut into, at a
 * fixed frame rate, so 2.0 lasts half as long as 1.0.
 */
export async function render(job: RenderJob): Promise<RenderResult> {
  const { rgba, width, height } = await decode(job.image, MAX_SIDE[job.format]);
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < grey.length; i++) grey[i] = (rgba[i * 4]! * 299 + rgba[i * 4 + 1]! * 587 + rgba[i * 4 + 2]! * 114) / 1000;
  const nearness = estimateNearness(grey, width, height);
  const depthPng = await sharp(nearness, { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toBuffer();

  const frameCount = Math.max(2, Math.round((job.durationMs / job.speed / 1000) * FPS));
  const frame = new Uint8Array(width * height * 4);
  const frames = function* () {
    for (let i = 0; i < frameCount; i++) {
      renderFrame(rgba, nearness, width, height, cameraAt(job.motion, i / (frameCount - 1)), frame);
      yield frame;
    }
  };
  const video = job.format === 'mp4' ? await encodeMp4(frames(), width, height) : encodeGif(frames(), rgba, width, height);
  return { video, mimeType: job.format === 'mp4' ? 'video/mp4' : 'image/gif', frameCount, depthPng };
}

async function decode(image: Uint8Array, maxSide: number): Promise<{ rgba: Uint8Array; width: number; height: number }> {
  let meta: Metadata;
  try {
    meta = await sharp(image).metadata();
  } catch (err) {
    throw new RenderRefusal('undecodable', `image could not be decoded: ${(err as Error).message}`);
  }
  const w = meta.autoOrient?.width ?? meta.width ?? 0;
  const h = meta.autoOrient?.height ?? meta.height ?? 0;
  if (Math.min(w, h) < SIDE.min || Math.max(w, h) > SIDE.max) {
    throw new RenderRefusal('size', `image is ${w}x${h}; sides must be ${SIDE.min}..${SIDE.max}`);
  }
  const scale = Math.min(1, maxSide / Math.max(w, h));
  // H.264 wants even sides.
  const width = Math.max(2, 2 * Math.round((w * scale) / 2));
  const height = Math.max(2, 2 * Math.round((h * scale) / 2));
  try {
    const rgba = await sharp(image).autoOrient().resize(width, height, { fit: 'fill' }).ensureAlpha().raw().toBuffer();
    return { rgba: new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.length), width, height };
  } catch (err) {
    throw new RenderRefusal('undecodable', `image could not be decoded: ${(err as Error).message}`);
  }
}

async function encodeMp4(frames: Iterable<Uint8Array>, width: number, height: number): Promise<Uint8Array> {
  const encoder = await HME.createH264MP4Encoder();
  try {
    encoder.width = width;
    encoder.height = height;
    encoder.frameRate = FPS;
    encoder.quantizationParameter = 28;
    encoder.speed = 10;
    encoder.initialize();
    for (const frame of frames) encoder.addFrameRgba(frame);
    encoder.finalize();
    return encoder.FS.readFile(encoder.outputFilename);
  } finally {
    encoder.delete();
  }
}

/** One palette, from the photo, for every frame: the frames are the photo moved, not new colours. */
function encodeGif(frames: Iterable<Uint8Array>, photo: Uint8Array, width: number, height: number): Uint8Array {
  const palette = gifenc.quantize(photo, 256);
  const gif = gifenc.GIFEncoder();
  let first = true;
  for (const frame of frames) {
    gif.writeFrame(gifenc.applyPalette(frame, palette), width, height, { ...(first ? { palette, repeat: 0 } : {}), delay: 1000 / FPS });
    first = false;
  }
  gif.finish();
  return gif.bytes();
}
