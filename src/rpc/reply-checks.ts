import keypoint from '../../gen/thrift/keypoint_types.js';
import { StatusCode } from './backend-status.js';
import { IMAGE3D_LIMITS } from '../services/image3d.js';
import { KEYPOINT_LIMITS } from '../services/keypoint.js';
import type { BackendMethods, BackendName } from '../services/index.js';

/**
 * What the IDL promises of each backend's replies, checked before anything of a reply reaches
 * a partner: a backend that breaks it (NaN landmarks, 5 million of them, an empty video) gets
 * its call failed as a protocol error, with a diagnosis in the gateway's own words. Numbers the
 * backend sent may be quoted; its text never is.
 */

type Call<B extends BackendName> = BackendMethods[B][keyof BackendMethods[B]];
type Check<B extends BackendName> = (
  request: Call<B> extends { request: infer Q } ? Q : never,
  response: Call<B> extends { response: infer R } ? R : never,
) => string | undefined;

const finite = (v: number) => Number.isFinite(v);
const within = (v: number, min: number, max: number) => finite(v) && v >= min && v <= max;

/** A coordinate may lie outside the image (a face cut by its edge), but not further than one image size. */
const nearImage = (v: number, side: number) => within(v, -side, 2 * side);

// The longest camera path at the lowest speed (40 s); 60 frames a second is more than any
// renderer makes of it.
const MAX_VIDEO_FRAMES = ((IMAGE3D_LIMITS.durationMs.max / IMAGE3D_LIMITS.speed.min) * 60) / 1000;

const MAGIC = {
  mp4: (b: Buffer) => b.length >= 8 && b.toString('latin1', 4, 8) === 'ftyp',
  gif: (b: Buffer) => /^GIF8[79]a$/.test(b.toString('latin1', 0, 6)),
  png: (b: Buffer) => b.toString('hex', 0, 8) === '89504e470d0a1a0a',
  zip: (b: Buffer) => b.toString('hex', 0, 4) === '504b0304',
};

function checkFace(face: keypoint.Face, n: number, width: number, height: number): string | undefined {
  const where = `face ${n}`;
  const landmarks = face.landmarks?.length ?? 0;
  if (landmarks !== keypoint.LANDMARK_COUNT) return `${where} has ${landmarks} landmarks, not ${keypoint.LANDMARK_COUNT}`;
  if (!within(face.score, 0, 1)) return `${where} has score ${face.score}, outside 0..1`;
  if (!face.rect) return `${where} has no rect`;
  const { left, top, width: w, height: h } = face.rect;
  if (!nearImage(left, width) || !nearImage(top, height)) return `${where} has its rect at (${left}, ${top}), off the ${width}x${height} image`;
  if (!within(w, 0, 2 * width) || !within(h, 0, 2 * height)) return `${where} has a rect of ${w}x${h}, not a size within the ${width}x${height} image`;
  for (const [i, p] of face.landmarks.entries()) {
    if (!nearImage(p.x, width) || !nearImage(p.y, height)) return `${where} has landmark ${i} at (${p.x}, ${p.y}), off the ${width}x${height} image`;
  }
  for (const [angle, v] of [['yaw', face.yaw], ['pitch', face.pitch], ['roll', face.roll]] as const) {
    if (v != null && !within(v, -180, 180)) return `${where} has ${angle} ${v}, outside -180..180 degrees`;
  }
  return undefined;
}

const keypointCheck: Check<'keypoint'> = (request, response) => {
  const faces = response.faces ?? [];
  const maxFaces = request.max_faces ?? 1;
  if (faces.length > maxFaces) return `${faces.length} faces for a request of at most ${maxFaces}`;
  const { min, max } = KEYPOINT_LIMITS.imageSide;
  for (const [field, side] of [['image_width', response.image_width], ['image_height', response.image_height]] as const) {
    if (side != null && !within(side, min, max)) return `${field} ${side} is outside ${min}..${max}`;
  }
  for (const [i, face] of faces.entries()) {
    const broken = checkFace(face, i + 1, response.image_width ?? max, response.image_height ?? max);
    if (broken) return broken;
  }
  return undefined;
};

const image3dCheck: Check<'image3d'> = (request, response) => {
  const format = request.video_format === 'gif' ? 'gif' : 'mp4';
  const mime = format === 'gif' ? 'image/gif' : 'video/mp4';
  if (!response.video?.length) return 'no video';
  if (response.mime_type !== mime) return `another type than the ${mime} asked for`;
  if (!MAGIC[format](response.video)) return `a video that is not ${format === 'gif' ? 'a GIF' : 'an MP4'} file`;
  const frames = response.frame_count;
  if (frames != null && !within(frames, 1, MAX_VIDEO_FRAMES)) return `frame_count ${frames} is outside 1..${MAX_VIDEO_FRAMES}`;
  if (response.depth_png?.length && !MAGIC.png(response.depth_png)) return 'a depth map that is not a PNG file';
  return undefined;
};

const arscanCheck: Check<'arscan'> = (request, response) => {
  if (!response.model_zip?.length) return 'no model';
  if (!MAGIC.zip(response.model_zip)) return 'a model that is not a zip file';
  const format = request.model_format ?? 'glb';
  if (response.model_format != null && response.model_format !== format) return `a model in another format than the ${format} asked for`;
  if (response.vertex_count != null && response.vertex_count < 0) return `vertex_count ${response.vertex_count} is negative`;
  const sent = request.images.length;
  if (response.images_used != null && !within(response.images_used, 0, sent)) return `images_used ${response.images_used} is outside 0..${sent}`;
  return undefined;
};

const CHECKS: { [B in BackendName]: Check<B> } = { keypoint: keypointCheck, image3d: image3dCheck, arscan: arscanCheck };

/**
 * What is wrong with a backend's reply, or undefined when it keeps the IDL's promises. A reply
 * with a non-zero StatusCode carries no payload: it is mapped from its code elsewhere.
 */
export function replyFault(backend: BackendName, request: unknown, response: unknown): string | undefined {
  const status = (response as { BaseResp?: { StatusCode?: number } } | null)?.BaseResp;
  if (!status) return 'no BaseResp';
  if (status.StatusCode !== StatusCode.OK) return undefined;
  // The generated codec decoded `response` for this backend's method, from this request.
  return (CHECKS[backend] as (request: unknown, response: unknown) => string | undefined)(request, response);
}
