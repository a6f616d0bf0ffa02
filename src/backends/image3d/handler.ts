import base from '../../../gen/thrift/base_types.js';
import image3d from '../../../gen/thrift/image3d_types.js';
import type { Motion } from './camera.js';
import { RenderRefusal, type VideoFormat } from './render.js';
import type { Renderer } from './renderer.js';

const { StatusCode } = base;

/** The camera path of one of the IDL's CameraMotion values (the generated enum maps 1 back to 'ZOOM'), as the gateway names it too. */
const motionOf = (value: number) => (image3d.CameraMotion as unknown as Record<number, string | undefined>)[value]?.toLowerCase() as Motion | undefined;

const answer = (code: number, message: string) =>
  new image3d.RenderResponse({ BaseResp: new base.BaseResp({ StatusCode: code, StatusMessage: message }) });

/** `Image3DService.Render` on the CPU: checks the request as the IDL says, then renders. */
export function image3dHandler(renderer: Renderer) {
  return {
    async Render(req: image3d.RenderRequest): Promise<image3d.RenderResponse> {
      const speed = req.speed ?? 1.0;
      const durationMs = req.duration_ms ?? 3000;
      const format = req.video_format ?? 'mp4';
      const motion = motionOf(req.motion ?? image3d.CameraMotion.ZOOM);
      if (!(speed >= 0.25 && speed <= 4)) return answer(StatusCode.INVALID_ARGUMENT, `speed ${speed} is outside 0.25..4.0`);
      if (!Number.isInteger(durationMs) || durationMs < 1000 || durationMs > 10000) {
        return answer(StatusCode.INVALID_ARGUMENT, `duration_ms ${durationMs} is outside 1000..10000`);
      }
      if (format !== 'mp4' && format !== 'gif') return answer(StatusCode.INVALID_ARGUMENT, `video_format ${JSON.stringify(format)} is not mp4 or gif`);
      if (!motion) return answer(StatusCode.INVALID_ARGUMENT, `motion ${req.motion} is not a CameraMotion`);
      if (!req.image || req.image.length === 0) return answer(StatusCode.INVALID_ARGUMENT, 'image is empty');
      try {
        const r = await renderer.render({ image: req.image, speed, motion, durationMs, format: format as VideoFormat });
        return new image3d.RenderResponse({
          video: Buffer.from(r.video),
          mime_type: r.mimeType,
          frame_count: r.frameCount,
          depth_png: Buffer.from(r.depthPng),
          BaseResp: new base.BaseResp({ StatusCode: StatusCode.OK }),
        });
      } catch (err) {
        if (err instanceof RenderRefusal) {
          return answer(err.reason === 'undecodable' ? StatusCode.INVALID_IMAGE : StatusCode.IMAGE_SIZE_UNSUPPORTED, err.message);
        }
        return answer(StatusCode.INTERNAL_ERROR, (err as Error).message);
      }
    },
  };
}
