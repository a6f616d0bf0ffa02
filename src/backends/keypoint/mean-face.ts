/**
 * The 106-point mean face the reference backend fits to each detected box. Coordinates are
 * fractions of the box (0..1 across, 0..1 down; the chin falls just below the box, as it does
 * for OpenCV's frontal-face cascade). "Left" is the image's left. Point order:
 *
 *   0–32   face contour: left ear, along the jaw, chin at 16, to the right ear
 *   33–41  left eyebrow: 5 along the upper edge (outer→inner), 4 along the lower (inner→outer)
 *   42–50  right eyebrow: the mirror of 33–41 (outer→inner is right→left)
 *   51–59  left eye: 8 around the lids from the outer corner over the upper lid, then the pupil
 *   60–68  right eye: the mirror of 51–59
 *   69–74  nose bridge, top to tip
 *   75–85  nose base, left wing through the nostrils to the right wing
 *   86–97  outer lip contour from the left corner over the upper lip
 *   98–105 inner lip contour from the left corner over the upper lip
 */
export type Point = [number, number];

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const mirror = ([u, v]: Point): Point => [1 - u, v];

function arc(from: Point, to: Point, rise: number, n: number): Point[] {
  return range(n).map((i) => {
    const s = i / (n - 1);
    return [from[0] + (to[0] - from[0]) * s, from[1] + (to[1] - from[1]) * s - rise * Math.sin(Math.PI * s)];
  });
}

/** n points around an ellipse, from its left end over the top (clockwise in image coordinates). */
function ring(cx: number, cy: number, halfWidth: number, up: number, down: number, n: number): Point[] {
  return range(n).map((k) => {
    const phi = Math.PI - (2 * Math.PI * k) / n;
    const s = Math.sin(phi);
    return [cx + halfWidth * Math.cos(phi), cy - (s > 0 ? up : down) * s];
  });
}

const contour: Point[] = range(33).map((t) => {
  const theta = Math.PI - (Math.PI * t) / 32;
  return [0.5 + 0.44 * Math.cos(theta), 0.38 + 0.64 * Math.sin(theta)];
});
const leftBrow: Point[] = [...arc([0.15, 0.29], [0.43, 0.27], 0.045, 5), ...arc([0.41, 0.3], [0.17, 0.31], -0.03, 4)];
const leftEye: Point[] = [...ring(0.31, 0.385, 0.09, 0.035, 0.03, 8), [0.31, 0.385]];
const rightEye: Point[] = [...ring(0.31, 0.385, 0.09, 0.035, 0.03, 8).map(mirror), [0.69, 0.385]];
const noseBridge: Point[] = arc([0.5, 0.4], [0.5, 0.62], 0, 6);
const noseBase: Point[] = range(11).map((i) => {
  const s = i / 10;
  return [0.39 + 0.22 * s, 0.6 + 0.07 * Math.sin(Math.PI * s)];
});
const outerLip = ring(0.5, 0.8, 0.17, 0.05, 0.06, 12);
const innerLip = ring(0.5, 0.8, 0.11, 0.02, 0.02, 8);

export const MEAN_FACE: readonly Point[] = [
  ...contour,
  ...leftBrow,
  ...leftBrow.map(mirror),
  ...leftEye,
  ...rightEye,
  ...noseBridge,
  ...noseBase,
  ...outerLip,
  ...innerLip,
];

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The mean face scaled into a detected box, in image pixels (to 1/100 px: finer means nothing here). */
export function fitMeanFace(box: Box): Point[] {
  const round = (n: number) => Math.round(n * 100) / 100;
  return MEAN_FACE.map(([u, v]) => [round(box.left + u * box.width), round(box.top + v * box.height)]);
}
