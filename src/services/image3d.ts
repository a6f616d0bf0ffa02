import Image3DService from '../../gen/thrift/Image3DService.js';
import image3d from '../../gen/thrift/image3d_types.js';
import type { GeneratedClientClass } from '../rpc/connection.js';
import { defineService, method } from './descriptor.js';

const MiB = 1024 * 1024;

type MotionName = Lowercase<keyof typeof image3d.CameraMotion & string>;

/**
 * The IDL's camera motions by their names in the API (`dolly_zoom` for DOLLY_ZOOM), read from
 * the generated enum, in its order. The generated object also maps each value back to its
 * name ('1': 'ZOOM'); only the names are taken.
 */
const CAMERA_MOTIONS = Object.fromEntries(
  Object.entries(image3d.CameraMotion)
    .filter(([key]) => !/^\d+$/.test(key))
    .map(([key, value]) => [key.toLowerCase(), value]),
) as Record<MotionName, image3d.CameraMotion>;

/**
 * The IDL's limits (idl/image3d.thrift): its enum from the generated code, the ranges it
 * states only in comments written here, once.
 */
export const IMAGE3D_LIMITS = {
  imageSide: { min: 64, max: 4096 },
  speed: { min: 0.25, max: 4 },
  durationMs: { min: 1000, max: 10_000 },
  cameraMotions: CAMERA_MOTIONS,
  motionNames: Object.keys(CAMERA_MOTIONS) as [MotionName, ...MotionName[]],
};

export const image3dService = defineService({
  name: 'image3d',
  client: Image3DService.Client as unknown as GeneratedClientClass,
  methods: { Render: method(image3d.RenderRequest, image3d.RenderResponse, ['video']) },
  // A video of at most 40 s (10 s at a quarter speed) and its depth map.
  defaults: { timeoutMs: 10_000, maxReplyBytes: 128 * MiB },
  tag: { name: 'image3d', description: 'Photos to videos with 3D camera motion' },
  routes: () => import('../routes/image3d.js'),
  reference: { entry: 'image3d' },
});
