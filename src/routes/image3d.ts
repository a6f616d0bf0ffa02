import image3d from '../../gen/thrift/image3d_types.js';
import { BACKEND_CALL_ERRORS, IMAGE_INPUT_ERRORS, PARTNER_ERRORS } from '../errors.js';
import { collectImage } from '../input/collect.js';
import { inspectImage } from '../input/image.js';
import type { JobKind } from '../jobs/kind.js';
import type { z } from 'zod';
import { Image3dJsonAnswer, Image3dJsonBody, Image3dMultipartBody, Image3dOptions, type VIDEO_FORMATS } from '../schemas/image3d.js';
import { JOB_ACCEPTED, SUBMIT_ERRORS, SubmitHeaders } from '../schemas/jobs.js';
import { jsonSchema, ref } from '../schemas/json-schema.js';
import { BINARY, imageRequestSchema } from '../schemas/image-request.js';
import { problemResponses } from '../schemas/problem.js';
import type { ServiceRoute } from '../services/descriptor.js';
import { IMAGE3D_LIMITS, image3dService } from '../services/image3d.js';
import { answerLogids, downloadName, sendFile, wantsJson } from './binary-answer.js';

const { imageSide, cameraMotions } = IMAGE3D_LIMITS;

const MIME_TYPES = { mp4: 'video/mp4', gif: 'image/gif' } as const;

/** A validated photo and options: what the backend call needs (and what a job stores). */
export type Image3dInput = z.output<typeof Image3dOptions> & { image: Buffer };

/** What the backend made, for the route's answer (and a job's result). */
export interface Image3dOutput {
  format: (typeof VIDEO_FORMATS)[number];
  frame_count: number;
  video: Buffer;
  depth_png: Buffer | undefined;
}

/** The render: called by the route, or later by a job. */
export const image3dJob: JobKind<Image3dInput, Image3dOutput> = {
  name: 'image3d',
  backend: image3dService.name,
  route: '/v1/image3d/videos',
  async run(rpc, { image, speed, motion, duration_ms, format }, ctx) {
    const res = await rpc.call(
      image3dService.name,
      'Render',
      new image3d.RenderRequest({ image, speed, motion: cameraMotions[motion], duration_ms, video_format: format }),
      ctx,
    );
    return { format, frame_count: res.frame_count ?? 0, video: res.video, depth_png: res.depth_png ?? undefined };
  },
  answer(request, reply, out, jobLogid) {
    const mime = MIME_TYPES[out.format];
    if (wantsJson(request, mime)) {
      const answer: Image3dJsonAnswer = {
        ...answerLogids(request, jobLogid),
        mime_type: mime,
        frame_count: out.frame_count,
        video: out.video.toString('base64'),
        depth_png: out.depth_png?.toString('base64') ?? '',
      };
      return answer;
    }
    return sendFile(reply, out.video, mime, downloadName(request, jobLogid, out.format));
  },
};

const image3dRoute: ServiceRoute = async (app) => {
  app.jobs.register(image3dJob);
  app.post(
    image3dJob.route,
    {
      config: { backend: image3dService.name },
      schema: {
        operationId: 'renderImage3dVideo',
        tags: [image3dService.tag.name],
        summary: 'One photo in, a video with 3D camera motion out',
        description:
          `Send one JPEG or PNG (${imageSide.min} to ${imageSide.max} pixels a side) as JSON with base64, as a multipart \`image\` file, or as the raw ` +
          'body. The answer is the video (`video/mp4` or `image/gif`, as a download); with `Accept: application/json`, JSON with ' +
          'the video and the depth map in base64. Options may be query parameters with any form; a body value wins. ' +
          'Send `Prefer: respond-async` to get a job at once (202) and fetch the result later.',
        ...imageRequestSchema(Image3dOptions, Image3dJsonBody, Image3dMultipartBody),
        headers: jsonSchema(SubmitHeaders),
        response: {
          ...JOB_ACCEPTED,
          200: {
            description: 'The video; or, with `Accept: application/json`, the video and depth map in base64.',
            content: { 'video/mp4': BINARY, 'image/gif': BINARY, 'application/json': { schema: ref(Image3dJsonAnswer) } },
          },
          ...problemResponses([...PARTNER_ERRORS, ...IMAGE_INPUT_ERRORS, ...SUBMIT_ERRORS, ...BACKEND_CALL_ERRORS]),
        },
      },
    },
    async (request, reply) =>
      app.jobs.serve(request, reply, image3dJob, async (): Promise<Image3dInput> => {
        const { image, options } = await collectImage(request, 'image', Image3dOptions);
        request.stages.enter('validate');
        inspectImage(image, 'image', imageSide);
        return { image, ...options };
      }),
  );
};

export default image3dRoute;
