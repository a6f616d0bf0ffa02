import arscan from '../../gen/thrift/arscan_types.js';
import { BACKEND_CALL_ERRORS, IMAGE_INPUT_ERRORS, PARTNER_ERRORS } from '../errors.js';
import { collectCaptureSet } from '../input/capture-set.js';
import type { ZipFile } from '../input/zip.js';
import type { JobKind } from '../jobs/kind.js';
import { bodyLimits } from '../limits/body.js';
import { ArscanJsonAnswer, MODEL_FORMATS, ArscanJsonBody, ArscanMultipartBody, ArscanOptions } from '../schemas/arscan.js';
import { BINARY } from '../schemas/image-request.js';
import { JOB_ACCEPTED, SUBMIT_ERRORS, SubmitHeaders } from '../schemas/jobs.js';
import { jsonSchema, ref } from '../schemas/json-schema.js';
import { problemResponses } from '../schemas/problem.js';
import type { ServiceRoute } from '../services/descriptor.js';
import { ARSCAN_LIMITS, arscanService } from '../services/arscan.js';
import { answerLogids, downloadName, sendFile, wantsJson } from './binary-answer.js';

const { imageSide, imageCount } = ARSCAN_LIMITS;

/** A validated capture set: what the backend call needs (and what a job stores). */
export interface ArscanInput {
  images: ZipFile[];
  skipped: string[];
  format: (typeof MODEL_FORMATS)[number];
  texture_size: number;
}

/** What the backend made, for the route's answer (and a job's result). */
export interface ArscanOutput {
  format: (typeof MODEL_FORMATS)[number];
  vertex_count: number;
  images_used: number;
  skipped: string[];
  model_zip: Buffer;
}

/** How long X-Skipped-Entries may be: clients refuse a head past 8 KiB (curl) or 16 KiB (Node). */
const SKIPPED_HEADER_BYTES = 4096;

/**
 * The skipped entries' names, URL-encoded and comma-separated, within SKIPPED_HEADER_BYTES: past
 * it the list ends with `+N more` (a space, which no encoded name has). An archive of a thousand
 * long names once made a 700 KB header that no common client could read; the JSON answer's
 * `skipped` lists them all.
 */
export function skippedEntries(names: string[]): string {
  let header = '';
  for (const [i, name] of names.entries()) {
    const next = `${header ? ', ' : ''}${encodeURIComponent(name)}`;
    const more = `, +${names.length - i} more`;
    if (header.length + next.length + (i < names.length - 1 ? more.length : 0) > SKIPPED_HEADER_BYTES) return header ? `${header}${more}` : `+${names.length} more`;
    header += next;
  }
  return header;
}

/** The reconstruction: called by the route, or later by a job. */
export const arscanJob: JobKind<ArscanInput, ArscanOutput> = {
  name: 'arscan',
  backend: arscanService.name,
  route: '/v1/arscan/models',
  async run(rpc, { images, skipped, format, texture_size }, ctx) {
    const res = await rpc.call(
      arscanService.name,
      'Reconstruct',
      new arscan.ReconstructRequest({ images: images.map((i) => new arscan.CaptureImage(i)), model_format: format, texture_size }),
      ctx,
    );
    return { format, vertex_count: res.vertex_count ?? 0, images_used: res.images_used ?? images.length, skipped, model_zip: res.model_zip };
  },
  answer(request, reply, out, jobLogid) {
    if (out.skipped.length > 0) reply.header('x-skipped-entries', skippedEntries(out.skipped));
    if (wantsJson(request, 'application/zip')) {
      const answer: ArscanJsonAnswer = {
        ...answerLogids(request, jobLogid),
        format: out.format,
        vertex_count: out.vertex_count,
        images_used: out.images_used,
        skipped: out.skipped,
        model_zip: out.model_zip.toString('base64'),
      };
      return answer;
    }
    return sendFile(reply, out.model_zip, 'application/zip', downloadName(request, jobLogid, 'zip'));
  },
};

const arscanRoute: ServiceRoute = async (app, { config }) => {
  app.jobs.register(arscanJob);
  const capture = { archiveBytes: config.maxArchiveBytes, zip: config.archive, side: imageSide, count: imageCount };
  app.post(
    arscanJob.route,
    {
      config: { bodyLimits: bodyLimits(config.maxArchiveBytes), backend: arscanService.name },
      schema: {
        operationId: 'createArscanModel',
        tags: [arscanService.tag.name],
        summary: 'Photos of one object in, a textured 3D model (zip) out',
        description:
          `Send ${imageCount.min} to ${imageCount.max} JPEG or PNG photos (${imageSide.min} to ${imageSide.max} pixels a side): as a zip (raw \`application/zip\` body, multipart ` +
          '`archive`, or JSON `archive` in base64), as several multipart `images` files, or as JSON `images`. Archive ' +
          'entries that are not images are skipped and named in `X-Skipped-Entries`. The answer is the model zip; with ' +
          '`Accept: application/json`, JSON with the zip in base64. Options may be query parameters with any form. ' +
          'A reconstruction takes minutes: send `Prefer: respond-async` to get a job at once (202) and fetch the result later.',
        body: {
          content: {
            'application/json': { schema: ref(ArscanJsonBody) },
            'multipart/form-data': { schema: ref(ArscanMultipartBody) },
            'application/zip': BINARY,
          },
        },
        querystring: jsonSchema(ArscanOptions),
        headers: jsonSchema(SubmitHeaders),
        response: {
          ...JOB_ACCEPTED,
          200: {
            description: 'The model zip (`model.glb`, or `model.obj` + `model.mtl` + `atlas.jpg`).',
            content: { 'application/zip': BINARY, 'application/json': { schema: ref(ArscanJsonAnswer) } },
          },
          ...problemResponses([
            ...PARTNER_ERRORS,
            ...IMAGE_INPUT_ERRORS,
            'INVALID_ARCHIVE',
            'ARCHIVE_LIMIT_EXCEEDED',
            'ARCHIVE_UNSUPPORTED',
            ...SUBMIT_ERRORS,
            'NOT_ENOUGH_IMAGES',
            'TOO_MANY_IMAGES',
            'RECONSTRUCTION_FAILED',
            ...BACKEND_CALL_ERRORS,
          ]),
        },
      },
    },
    async (request, reply) =>
      app.jobs.serve(request, reply, arscanJob, async (): Promise<ArscanInput> => {
        const { images, skipped, options } = await collectCaptureSet(request, capture, ArscanOptions);
        request.stages.enter('validate');
        return { images, skipped, ...options };
      }),
  );
};

export default arscanRoute;
