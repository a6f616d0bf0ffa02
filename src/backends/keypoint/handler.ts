import base from '../../../gen/thrift/base_types.js';
import keypoint from '../../../gen/thrift/keypoint_types.js';
import type { FaceDetector } from './detector.js';

const { StatusCode } = base;
const MIN_SIDE = 32;
const MAX_SIDE = 4096;

const answer = (code: number, message: string) =>
  new keypoint.DetectResponse({ faces: [], BaseResp: new base.BaseResp({ StatusCode: code, StatusMessage: message }) });

/** `KeypointService.Detect` on the CPU: checks the request as the IDL says, then detects. */
export function keypointHandler(detector: FaceDetector) {
  return {
    async Detect(req: keypoint.DetectRequest): Promise<keypoint.DetectResponse> {
      const maxFaces = req.max_faces ?? 1;
      if (!Number.isInteger(maxFaces) || maxFaces < 1 || maxFaces > 10) {
        return answer(StatusCode.INVALID_ARGUMENT, `max_faces ${maxFaces} is outside 1..10`);
      }
      if (!req.image || req.image.length === 0) return answer(StatusCode.INVALID_ARGUMENT, 'image is empty');
      let found;
      try {
        found = await detector.detect(req.image, maxFaces);
      } catch (err) {
        return answer(StatusCode.INVALID_IMAGE, `image could not be decoded: ${(err as Error).message}`);
      }
      const { width, height, faces } = found;
      if (Math.min(width, height) < MIN_SIDE || Math.max(width, height) > MAX_SIDE) {
        return answer(StatusCode.IMAGE_SIZE_UNSUPPORTED, `image is ${width}x${height}; sides must be ${MIN_SIDE}..${MAX_SIDE}`);
      }
      return new keypoint.DetectResponse({
        faces: faces.map(
          (f) =>
            new keypoint.Face({
              rect: new keypoint.Rect(f.rect),
              score: f.score,
              landmarks: f.landmarks.map(([x, y]) => new keypoint.Point({ x, y })),
            }),
        ),
        image_width: width,
        image_height: height,
        BaseResp: new base.BaseResp({ StatusCode: StatusCode.OK }),
      });
    },
  };
}
