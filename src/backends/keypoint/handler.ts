import base from '../../../gen/thrift/base_types.js';
import keypoint from '../../../gen/thrift/keypoint_types.js';
import { DetectRefusal, type FaceDetector } from './detector.js';

const { StatusCode } = base;

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
      try {
        const { width, height, faces } = await detector.detect(req.image, maxFaces);
        return new keypoint.DetectResponse({
          faces: faces.map(
            (f) =>
              new keypoint.Face({
                rect: new keypoint.Rect(f.rect),
                score: f.score,
                landmarks: f.landmarks.map(([x, y]) => new keypoint.Point({ x, y })),
                yaw: f.yaw,
                pitch: f.pitch,
                roll: f.roll,
              }),
          ),
          image_width: width,
          image_height: height,
          BaseResp: new base.BaseResp({ StatusCode: StatusCode.OK }),
        });
      } catch (err) {
        if (err instanceof DetectRefusal) {
          return answer(err.reason === 'undecodable' ? StatusCode.INVALID_IMAGE : StatusCode.IMAGE_SIZE_UNSUPPORTED, err.message);
        }
        return answer(StatusCode.INTERNAL_ERROR, (err as Error).message);
      }
    },
  };
}
