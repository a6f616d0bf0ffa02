import keypoint from '../../gen/thrift/keypoint_types.js';
import { BACKEND_CALL_ERRORS, IMAGE_INPUT_ERRORS, PARTNER_ERRORS } from '../errors.js';
import { collectImage } from '../input/collect.js';
import { inspectImage } from '../input/image.js';
import { ref } from '../schemas/json-schema.js';
import { KeypointJsonBody, KeypointMultipartBody, KeypointOptions, KeypointsAnswer } from '../schemas/keypoints.js';
import { imageRequestSchema } from '../schemas/image-request.js';
import { problemResponses } from '../schemas/problem.js';
import type { ServiceRoute } from '../services/descriptor.js';
import { KEYPOINT_LIMITS, keypointService } from '../services/keypoint.js';

const { imageSide, landmarkCount } = KEYPOINT_LIMITS;

/**
 * Landmarks to 1/100 pixel: finer means nothing for a face, and a double printed in full
 * (17 digits) makes the 106 points the most expensive part of the answer to encode.
 */
const hundredths = (v: number) => Math.round(v * 100) / 100;

const keypointsRoute: ServiceRoute = async (app) => {
  app.post(
    '/v1/keypoints',
    {
      config: { backend: keypointService.name },
      schema: {
        operationId: 'detectKeypoints',
        tags: [keypointService.tag.name],
        summary: `Faces and their ${landmarkCount} landmarks in one photo`,
        description:
          `Send one JPEG or PNG (${imageSide.min} to ${imageSide.max} pixels a side) as JSON with base64, as a multipart \`image\` file, or as the raw body ` +
          '(`image/jpeg` or `image/png`). Options may be query parameters with any form; a body value wins. ' +
          'The format is read from the bytes, not the Content-Type.',
        ...imageRequestSchema(KeypointOptions, KeypointJsonBody, KeypointMultipartBody),
        response: {
          200: { description: 'The faces found, largest first (an empty list when there is none).', content: { 'application/json': { schema: ref(KeypointsAnswer) } } },
          ...problemResponses([...PARTNER_ERRORS, ...IMAGE_INPUT_ERRORS, ...BACKEND_CALL_ERRORS]),
        },
      },
    },
    async (request): Promise<KeypointsAnswer> => {
      const { image, options: { max_faces } } = await collectImage(request, 'image', KeypointOptions);
      request.stages.enter('validate');
      const info = inspectImage(image, 'image', imageSide);
      const res = await app.rpc.call(keypointService.name, 'Detect', new keypoint.DetectRequest({ image, max_faces }), request.callContext());
      return {
        logid: request.id,
        image: { width: res.image_width ?? info.width, height: res.image_height ?? info.height },
        faces: (res.faces ?? []).map((f) => ({
          rect: { left: f.rect.left, top: f.rect.top, width: f.rect.width, height: f.rect.height },
          score: f.score,
          landmarks: f.landmarks.map((p): [number, number] => [hundredths(p.x), hundredths(p.y)]),
          ...(f.yaw != null && f.pitch != null && f.roll != null ? { pose: { yaw: f.yaw, pitch: f.pitch, roll: f.roll } } : {}),
        })),
      };
    },
  );
};

export default keypointsRoute;
