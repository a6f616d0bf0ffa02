import { serveJobs } from '../worker-thread.js';
import { FaceMesh } from './face-mesh.js';
import { landmarksFromMesh, type Point } from './landmarks-106.js';
import { poseFromMesh, type Pose } from './pose.js';

export interface MeshJob {
  /** RGB, 3 bytes a pixel. */
  rgb: Uint8Array;
  width: number;
  height: number;
  maxFaces: number;
  /** Pixels of the job per pixel of the caller's image: answers are in the caller's pixels. */
  scale: number;
}

export interface FoundFace extends Pose {
  /** The smallest box holding the whole mesh (it may reach past the image's edges). */
  rect: { left: number; top: number; width: number; height: number };
  score: number;
  landmarks: Point[];
}

/** The face model in a worker thread, loaded once, before the thread says it is ready. */
const model = await FaceMesh.load();

serveJobs<MeshJob, FoundFace[]>(async ({ rgb, width, height, maxFaces, scale }) => {
  const faces = (await model.detect(rgb, width, height, maxFaces)).map(({ mesh, score }): FoundFace => {
    const pixels = mesh.map(([x, y, z]) => [x! / scale, y! / scale, z! / scale]);
    const xs = pixels.map((p) => p[0]!);
    const ys = pixels.map((p) => p[1]!);
    const [left, top] = [Math.min(...xs), Math.min(...ys)];
    return {
      rect: { left, top, width: Math.max(...xs) - left, height: Math.max(...ys) - top },
      score,
      landmarks: landmarksFromMesh(pixels),
      ...poseFromMesh(pixels),
    };
  });
  const area = (f: FoundFace) => f.rect.width * f.rect.height;
  return { result: faces.sort((a, b) => area(b) - area(a)) };
});
