import KeypointService from '../../gen/thrift/KeypointService.js';
import keypoint from '../../gen/thrift/keypoint_types.js';
import type { GeneratedClientClass } from '../rpc/connection.js';
import { headerSize } from '../input/image.js';
import { nearImage, within } from '../rpc/reply-checks.js';
import { defineService, method } from './descriptor.js';

const MiB = 1024 * 1024;

/**
 * The IDL's limits (idl/keypoint.thrift): its constants from the generated code, the ranges
 * it states only in comments written here, once.
 */
export const KEYPOINT_LIMITS = {
  imageSide: { min: 32, max: 4096 },
  maxFaces: { min: 1, max: 10 },
  landmarkCount: keypoint.LANDMARK_COUNT,
};

const ANGLES = ['yaw', 'pitch', 'roll'] as const;

function checkFace(face: keypoint.Face, n: number, width: number, height: number): string | undefined {
  const where = `face ${n}`;
  const landmarks = face.landmarks?.length ?? 0;
  if (landmarks !== keypoint.LANDMARK_COUNT) return `${where} has ${landmarks} landmarks, not ${keypoint.LANDMARK_COUNT}`;
  if (!within(face.score, 0, 1)) return `${where} has score ${face.score}, outside 0..1`;
  if (!face.rect) return `${where} has no rect`;
  const { left, top, width: w, height: h } = face.rect;
  if (!nearImage(left, width) || !nearImage(top, height)) return `${where} has its rect at (${left}, ${top}), off the ${width}x${height} image`;
  if (!within(w, 0, 2 * width) || !within(h, 0, 2 * height)) return `${where} has a rect of ${w}x${h}, not a size within the ${width}x${height} image`;
  // Indexed: an entries() iterator makes an array per landmark, and this runs for every reply.
  for (let i = 0; i < face.landmarks.length; i++) {
    const p = face.landmarks[i]!;
    if (!nearImage(p.x, width) || !nearImage(p.y, height)) return `${where} has landmark ${i} at (${p.x}, ${p.y}), off the ${width}x${height} image`;
  }
  for (const angle of ANGLES) {
    const v = face[angle];
    if (v != null && !within(v, -180, 180)) return `${where} has ${angle} ${v}, outside -180..180 degrees`;
  }
  return undefined;
}

export const keypointService = defineService({
  name: 'keypoint',
  client: KeypointService.Client as unknown as GeneratedClientClass,
  methods: {
    Detect: method(keypoint.DetectRequest, keypoint.DetectResponse, {
      check(request, response) {
        const faces = response.faces ?? [];
        const maxFaces = request.max_faces ?? 1;
        if (faces.length > maxFaces) return `${faces.length} faces for a request of at most ${maxFaces}`;
        const { min, max } = KEYPOINT_LIMITS.imageSide;
        for (const [field, side] of [['image_width', response.image_width], ['image_height', response.image_height]] as const) {
          if (side != null && !within(side, min, max)) return `${field} ${side} is outside ${min}..${max}`;
        }
        // The photo's own size, from its header (the route checked it before the call): the
        // backend may report it turned a quarter (EXIF orientation), never another size, and
        // its landmarks lie within it. A backend that claimed 4096x4096 for a 512x512 photo was
        // believed, its landmarks with it.
        const photo = headerSize(request.image);
        const width = response.image_width ?? photo?.width ?? max;
        const height = response.image_height ?? photo?.height ?? max;
        if (photo && !(width === photo.width && height === photo.height) && !(width === photo.height && height === photo.width)) {
          return `the image is ${width}x${height}, not the photo's ${photo.width}x${photo.height} (nor turned a quarter)`;
        }
        for (const [i, face] of faces.entries()) {
          const broken = checkFace(face, i + 1, width, height);
          if (broken) return broken;
        }
        return undefined;
      },
    }),
  },
  // Ten faces of 106 points are about 30 KB.
  defaults: { timeoutMs: 10_000, maxReplyBytes: 1 * MiB },
  tag: { name: 'keypoints', description: 'Faces and landmarks' },
  routes: () => import('../routes/keypoints.js'),
  reference: { entry: 'keypoint' },
  jobs: false,
});
