import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { fitMeanFace, type Box, type Point } from './mean-face.js';

/** The part of OpenCV.js this detector uses. */
interface Cv {
  Mat: new (rows: number, cols: number, type: number) => { data: Uint8Array; delete(): void };
  CV_8UC1: number;
  RectVector: new () => { size(): number; get(i: number): { x: number; y: number; width: number; height: number }; delete(): void };
  IntVector: new () => { get(i: number): number; delete(): void };
  Size: new (w: number, h: number) => unknown;
  CascadeClassifier: new () => { load(path: string): boolean; detectMultiScale2(...args: unknown[]): void };
  equalizeHist(src: unknown, dst: unknown): void;
  FS_createDataFile(dir: string, name: string, data: Uint8Array, read: boolean, write: boolean, own: boolean): void;
  onRuntimeInitialized?: () => void;
}

export interface DetectedFace {
  rect: Box;
  score: number;
  landmarks: Point[];
}

export interface Detection {
  width: number;
  height: number;
  faces: DetectedFace[];
}

const CASCADE = new URL('../../../assets/haarcascades/haarcascade_frontalface_default.xml', import.meta.url);
/** Larger photos are scaled down to this side before detection: same faces, bounded time. */
const DETECT_SIDE = 1024;

/** Wrapped, because the Emscripten module is a thenable that resolves to itself, forever:
 * returning it from an async function (or awaiting it) never settles. */
async function loadCv(): Promise<{ cv: Cv }> {
  const loaded = createRequire(import.meta.url)('@techstark/opencv-js') as Cv | Promise<Cv>;
  const cv = loaded instanceof Promise ? await loaded : loaded;
  if (typeof cv.Mat !== 'function') await new Promise<void>((resolve) => (cv.onRuntimeInitialized = resolve));
  return { cv };
}

export class FaceDetector {
  private constructor(
    private readonly cv: Cv,
    private readonly cascade: InstanceType<Cv['CascadeClassifier']>,
  ) {}

  static async create(): Promise<FaceDetector> {
    const { cv } = await loadCv();
    cv.FS_createDataFile('/', 'frontalface.xml', readFileSync(CASCADE), true, false, false);
    const cascade = new cv.CascadeClassifier();
    if (!cascade.load('frontalface.xml')) throw new Error('could not load the face cascade');
    return new FaceDetector(cv, cascade);
  }

  /**
   * Haar-cascade face boxes, the largest first, each with the mean face fitted to it. The
   * score is 1 − e^(−n/10), n being how many overlapping cascade hits were merged into the
   * box: a cascade has no calibrated confidence, and more hits mean a surer face.
   */
  async detect(image: Buffer, maxFaces: number): Promise<Detection> {
    const { cv } = this;
    const meta = await sharp(image).metadata();
    const width = meta.autoOrient?.width ?? meta.width!;
    const height = meta.autoOrient?.height ?? meta.height!;
    const scale = Math.min(1, DETECT_SIDE / Math.max(width, height));
    const { data, info } = await sharp(image)
      .autoOrient()
      .resize(Math.round(width * scale), Math.round(height * scale))
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const mat = new cv.Mat(info.height, info.width, cv.CV_8UC1);
    const rects = new cv.RectVector();
    const hits = new cv.IntVector();
    try {
      mat.data.set(data);
      cv.equalizeHist(mat, mat);
      this.cascade.detectMultiScale2(mat, rects, hits, 1.1, 3, 0, new cv.Size(24, 24), new cv.Size(0, 0));
      const faces: DetectedFace[] = [];
      for (let i = 0; i < rects.size(); i++) {
        const r = rects.get(i);
        const rect = { left: r.x / scale, top: r.y / scale, width: r.width / scale, height: r.height / scale };
        faces.push({ rect, score: Number((1 - Math.exp(-hits.get(i) / 10)).toFixed(4)), landmarks: fitMeanFace(rect) });
      }
      faces.sort((a, b) => b.rect.width * b.rect.height - a.rect.width * a.rect.height);
      return { width, height, faces: faces.slice(0, maxFaces) };
    } finally {
      mat.delete();
      rects.delete();
      hits.delete();
    }
  }
}
