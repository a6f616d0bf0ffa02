import type { FastifyPluginAsync } from 'fastify';
import image3d from '../../gen/thrift/image3d_types.js';
import { ApiError, BACKEND_CALL_ERRORS, IMAGE_INPUT_ERRORS, PARTNER_ERRORS } from '../errors.js';
import { collectImage } from '../input/collect.js';
import { inspectImage } from '../input/image.js';
import { parseOptions } from '../input/options.js';
import { IMAGE3D_IMAGE_SIDE, Image3dJsonAnswer, Image3dJsonBody, Image3dMultipartBody, Image3dOptions } from '../schemas/image3d.js';
import { jsonSchema } from '../schemas/json-schema.js';
import { BINARY, imageRequestSchema } from '../schemas/image-request.js';
import { problemResponses } from '../schemas/problem.js';
import { sendFile, wantsJson } from './binary-answer.js';

const CAMERA_MOTION = {
  zoom: image3d.CameraMotion.ZOOM,
  swing: image3d.CameraMotion.SWING,
  circle: image3d.CameraMotion.CIRCLE,
  dolly_zoom: image3d.CameraMotion.DOLLY_ZOOM,
} as const;

const MIME_TYPES = { mp4: 'video/mp4', gif: 'image/gif' } as const;

const image3dRoute: FastifyPluginAsync = async (app) => {
  app.post(
    '/v1/image3d/videos',
    {
      config: { backend: 'image3d' },
      schema: {
        tags: ['image3d'],
        summary: 'One photo in, a video with 3D camera motion out',
        description:
          'Send one JPEG or PNG (64 to 4096 pixels a side) as JSON with base64, as a multipart `image` file, or as the raw ' +
          'body. The answer is the video (`video/mp4` or `image/gif`, as a download); with `Accept: application/json`, JSON with ' +
          'the video and the depth map in base64. Options may be query parameters with any form; a body value wins.',
        ...imageRequestSchema(Image3dOptions, Image3dJsonBody, Image3dMultipartBody),
        response: {
          200: {
            description: 'The video; or, with `Accept: application/json`, the video and depth map in base64.',
            content: { 'video/mp4': BINARY, 'image/gif': BINARY, 'application/json': { schema: jsonSchema(Image3dJsonAnswer) } },
          },
          ...problemResponses([...PARTNER_ERRORS, ...IMAGE_INPUT_ERRORS, ...BACKEND_CALL_ERRORS]),
        },
      },
    },
    async (request, reply) => {
      const { image, options } = await collectImage(request, 'image');
      request.stages.enter('validate');
      const { speed, motion, duration_ms, format } = parseOptions(Image3dOptions, options);
      inspectImage(image, 'image', IMAGE3D_IMAGE_SIDE);
      const res = await app.rpc.call(
        'image3d',
        'Render',
        new image3d.RenderRequest({ image, speed, motion: CAMERA_MOTION[motion], duration_ms, video_format: format }),
        request.callContext(),
      );
      const mime = MIME_TYPES[format];
      if (!res.video || res.mime_type !== mime) {
        throw new ApiError('BACKEND_PROTOCOL_ERROR', `The image3d backend answered ${res.mime_type ?? 'no video'} for a ${format} request.`);
      }
      if (wantsJson(request, mime)) {
        const answer: Image3dJsonAnswer = {
          logid: request.id,
          mime_type: mime,
          frame_count: res.frame_count ?? 0,
          video: res.video.toString('base64'),
          depth_png: res.depth_png?.toString('base64') ?? '',
        };
        return answer;
      }
      return sendFile(reply, res.video, mime, `${request.id}.${format}`);
    },
  );
};

export default image3dRoute;
