import Image3DService from '../../gen/thrift/Image3DService.js';
import image3d from '../../gen/thrift/image3d_types.js';
import type { GeneratedClientClass } from '../rpc/connection.js';
import { MAGIC, within } from '../rpc/reply-checks.js';
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

// The longest camera path at the lowest speed (40 s); 60 frames a second is more than any
// renderer makes of it.
const MAX_VIDEO_FRAMES = ((IMAGE3D_LIMITS.durationMs.max / IMAGE3D_LIMITS.speed.min) * 60) / 1000;

export const image3dService = defineService({
  name: 'image3d',
  client: Image3DService.Client as unknown as GeneratedClientClass,
  methods: {
    Render: method(image3d.RenderRequest, image3d.RenderResponse, {
      present: ['video'],
      check(request, response) {
        const format = request.video_format === 'gif' ? 'gif' : 'mp4';
        const mime = format === 'gif' ? 'image/gif' : 'video/mp4';
        if (!response.video?.length) return 'no video';
        if (response.mime_type !== mime) return `another type than the ${mime} asked for`;
        if (!MAGIC[format](response.video)) return `a video that is not ${format === 'gif' ? 'a GIF' : 'an MP4'} file`;
        const frames = response.frame_count;
        if (frames != null && !within(frames, 1, MAX_VIDEO_FRAMES)) return `frame_count ${frames} is outside 1..${MAX_VIDEO_FRAMES}`;
        if (response.depth_png?.length && !MAGIC.png(response.depth_png)) return 'a depth map that is not a PNG file';
        return undefined;
      },
    }),
  },
  // A video of at most 40 s (10 s at a quarter speed) and its depth map.
  defaults: { timeoutMs: 10_000, maxReplyBytes: 128 * MiB },
  tag: { name: 'image3d', description: 'Photos to videos with 3D camera motion' },
  routes: () => import('../routes/image3d.js'),
  reference: { entry: 'image3d' },
  jobs: true,
});
