import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PARTNER_ERRORS, type ErrorCode } from '../errors.js';
import { parseOptions, queryOptions } from '../input/options.js';
import { ArscanJsonAnswer } from '../schemas/arscan.js';
import { Image3dJsonAnswer } from '../schemas/image3d.js';
import { BINARY } from '../schemas/image-request.js';
import { Job, JobList, JobListQuery, JobParams } from '../schemas/jobs.js';
import { jsonSchema, ref } from '../schemas/json-schema.js';
import { problemResponses } from '../schemas/problem.js';
import { isFinal, POLL_AFTER_S, type JobRecord } from './job.js';

const ERRORS: ErrorCode[] = [...PARTNER_ERRORS, 'JOB_NOT_FOUND'];
const jobAnswer = (description: string) => ({ description, content: { 'application/json': { schema: ref(Job) } } });
const params = jsonSchema(JobParams);
const tags = ['jobs'];

/** The routes of /v1/jobs: a job, its result, cancel, delete, the list, and its events. */
const jobRoutes: FastifyPluginAsync<{ keepAliveS: number }> = async (app, { keepAliveS }) => {
  const service = app.jobs.service;
  const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;
  const mine = (request: FastifyRequest) => service.find(idOf(request), request.partner);

  app.get(
    '/v1/jobs/:id',
    {
      schema: {
        operationId: 'getJob',
        tags,
        summary: 'A job',
        description: 'The job as it is now. While it is queued or running, `Retry-After` says when to ask again; or follow `/events`.',
        params,
        response: { 200: jobAnswer('The job.'), ...problemResponses(ERRORS) },
      },
    },
    async (request, reply) => {
      const job = await mine(request);
      if (!isFinal(job.status)) reply.header('retry-after', String(POLL_AFTER_S));
      return service.view(job);
    },
  );

  app.get(
    '/v1/jobs/:id/result',
    {
      schema: {
        operationId: 'getJobResult',
        tags,
        summary: 'A job\'s result',
        description:
          'Once the job has succeeded: what the synchronous route answers (the model zip or the video as a download named after ' +
          'the job\'s `logid`; its JSON form with `Accept: application/json`). Once it has failed: its problem, with its status. ' +
          'A JSON body\'s `logid` is this request\'s (as its `X-Tt-Logid`), and `job_logid` the submitting request\'s. Before it has finished: ' +
          '409 `JOB_NOT_FINISHED` with `Retry-After`.',
        params,
        response: {
          200: {
            description: 'The result, as the synchronous route answers it.',
            content: {
              'application/zip': BINARY,
              'video/mp4': BINARY,
              'image/gif': BINARY,
              'application/json': { schema: { oneOf: [ref(ArscanJsonAnswer), ref(Image3dJsonAnswer)] } },
            },
          },
          ...problemResponses([...ERRORS, 'JOB_NOT_FINISHED', 'JOB_CANCELED', 'JOB_EXPIRED']),
        },
      },
    },
    async (request, reply) => app.jobs.answer(request, reply, await mine(request)),
  );

  app.post(
    '/v1/jobs/:id/cancel',
    {
      schema: {
        operationId: 'cancelJob',
        tags,
        summary: 'Cancel a job',
        description: 'A queued job does not start; a running one\'s backend call is abandoned. The job becomes `canceled`.',
        params,
        response: { 202: jobAnswer('The job, canceled.'), ...problemResponses([...ERRORS, 'JOB_ALREADY_FINISHED']) },
      },
    },
    async (request, reply) => {
      const job = await service.cancel(idOf(request), request.partner);
      return reply.code(202).send(await service.view(job));
    },
  );

  app.delete(
    '/v1/jobs/:id',
    {
      schema: {
        operationId: 'deleteJob',
        tags,
        summary: 'Delete a finished job',
        description: 'The job, its input and its result are deleted now rather than when they expire.',
        params,
        response: { 204: { description: 'Deleted.', type: 'null' }, ...problemResponses([...ERRORS, 'JOB_NOT_FINISHED']) },
      },
    },
    async (request, reply) => {
      await service.delete(idOf(request), request.partner);
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/jobs',
    {
      schema: {
        operationId: 'listJobs',
        tags,
        summary: 'Your jobs',
        description: 'Your jobs, newest first, a page at a time.',
        querystring: jsonSchema(JobListQuery),
        response: {
          200: { description: 'A page of jobs.', content: { 'application/json': { schema: ref(JobList) } } },
          ...problemResponses([...PARTNER_ERRORS, 'INVALID_ARGUMENT']),
        },
      },
    },
    async (request) => {
      const query = parseOptions(JobListQuery, { text: queryOptions(request.query) });
      return service.list(request.partner, query);
    },
  );

  const streams = new Set<() => void>();
  app.addHook('onClose', async () => {
    for (const end of streams) end();
  });

  app.get(
    '/v1/jobs/:id/events',
    {
      schema: {
        operationId: 'getJobEvents',
        tags,
        summary: 'A job\'s changes, as Server-Sent Events',
        description:
          'One `status` event carrying the job at each change (its `id` grows with each), a keep-alive comment every ' +
          `${keepAliveS} s, and the stream closes after a final state. Reconnect with \`Last-Event-ID\` to get only what is newer.`,
        params,
        headers: jsonSchema(z.object({ 'last-event-id': z.string().optional().meta({ description: 'The id of the last event received.' }) })),
        response: {
          200: { description: 'The event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          ...problemResponses(ERRORS),
        },
      },
    },
    async (request, reply) => {
      const job = await mine(request);
      const lastId = Number(request.headers['last-event-id']);
      let sent = Number.isSafeInteger(lastId) && lastId > 0 ? lastId : 0;
      // Written by hand: a few lines of the text/event-stream format, which @fastify/sse (0.x) would not save.
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        // nginx would otherwise buffer the stream.
        'x-accel-buffering': 'no',
      });
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), keepAliveS * 1000);
      const end = () => {
        clearInterval(keepAlive);
        service.store.off('change', onChange);
        service.store.off('removed', onRemoved);
        streams.delete(end);
        res.end();
      };
      // Events are written in order of the job's versions: a view is made (asynchronously) per change.
      let writing = Promise.resolve();
      const send = (now: JobRecord) => {
        writing = writing.then(async () => {
          if (res.writableEnded) return;
          if (now.version > sent) {
            sent = now.version;
            res.write(`id: ${now.version}\nevent: status\ndata: ${JSON.stringify(await service.view(now))}\n\n`);
          }
          if (isFinal(now.status)) end();
        });
      };
      const onChange = (changed: JobRecord) => changed.id === job.id && send(changed);
      const onRemoved = (id: string) => id === job.id && end();
      service.store.on('change', onChange);
      service.store.on('removed', onRemoved);
      streams.add(end);
      res.once('close', end);
      send((await service.store.get(job.id)) ?? job);
    },
  );
};

export default jobRoutes;
