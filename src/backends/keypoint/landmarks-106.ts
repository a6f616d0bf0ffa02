/**
 * The IDL's 106 points, from the face mesh's 478 (MediaPipe FaceMesh's 468 vertices, then
 * 468–477 for the two irises, as @vladmandic/human numbers them: 468 is the iris of the eye
 * on the image's right, 473 that of the eye on the image's left). No standard 468→106 mapping
 * exists; this one was chosen by drawing the mesh's vertex numbers on the fixtures' faces.
 *
 * "Left" is the left of the face as the photo shows it upright (the person's right). Order:
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
 *
 * Each point is one mesh vertex, or (the contour) a weighted average of two neighbours on the
 * mesh's jaw line 234 → 152 (chin) → 454, which has 21 vertices where the layout wants 33.
 */
export type Source = readonly (readonly [vertex: number, weight: number])[];

const at = (vertex: number): Source => [[vertex, 1]];
const mix = (a: number, b: number, toB: number): Source => [
  [a, 1 - toB],
  [b, toB],
];

export const LANDMARKS_106: readonly Source[] = [
  // 0–32 contour
  at(234), mix(234, 93, 0.625), mix(93, 132, 0.25), mix(93, 132, 0.875), mix(132, 58, 0.5),
  mix(58, 172, 0.125), mix(58, 172, 0.75), mix(172, 136, 0.375), at(136), mix(136, 150, 0.625),
  mix(150, 149, 0.25), mix(150, 149, 0.875), mix(149, 176, 0.5), mix(176, 148, 0.125), mix(176, 148, 0.75),
  mix(148, 152, 0.375), at(152), mix(152, 377, 0.625), mix(377, 400, 0.25), mix(377, 400, 0.875),
  mix(400, 378, 0.5), mix(378, 379, 0.125), mix(378, 379, 0.75), mix(379, 365, 0.375), at(365),
  mix(365, 397, 0.625), mix(397, 288, 0.25), mix(397, 288, 0.875), mix(288, 361, 0.5), mix(361, 323, 0.125),
  mix(361, 323, 0.75), mix(323, 454, 0.375), at(454),
  // 33–41 left eyebrow, 42–50 right eyebrow
  ...[70, 63, 105, 66, 107, 65, 52, 53, 46].map(at),
  ...[300, 293, 334, 296, 336, 295, 282, 283, 276].map(at),
  // 51–59 left eye, 60–68 right eye
  ...[33, 160, 159, 158, 133, 153, 145, 144, 473].map(at),
  ...[263, 387, 386, 385, 362, 380, 374, 373, 468].map(at),
  // 69–74 nose bridge, 75–85 nose base
  ...[168, 6, 197, 195, 5, 1].map(at),
  ...[129, 64, 98, 99, 97, 2, 326, 328, 327, 294, 358].map(at),
  // 86–97 outer lip, 98–105 inner lip
  ...[61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91].map(at),
  ...[78, 81, 13, 311, 308, 402, 14, 178].map(at),
];

export type Point = [number, number];

/** The 106 points of one face from its mesh (any coordinates: pixels in, pixels out). */
export function landmarksFromMesh(mesh: readonly (readonly number[])[]): Point[] {
  return LANDMARKS_106.map((source) => {
    let x = 0;
    let y = 0;
    for (const [vertex, weight] of source) {
      x += mesh[vertex]![0]! * weight;
      y += mesh[vertex]![1]! * weight;
    }
    return [x, y];
  });
}
