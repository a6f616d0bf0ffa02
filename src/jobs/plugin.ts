import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { BackendName } from '../services/index.js';
import { ApiError, type Problem } from '../errors.js';
import { DirBlobStore, type BlobStore } from './blob-store.js';
import { fingerprint, idempotencyKey, IdempotencyKeys, KEY_LIFETIME_MS } from './idempotency.js';
import { jobUrl, MAX_WAIT_S, newJobId, POLL_AFTER_S, type JobKindName, type JobRecord } from './job.js';
import { BullQueue } from './bull-queue.js';
import { FileJobStore } from './job-store.js';
import { RedisJobStore } from './redis-store.js';
import { Jobs } from './jobs.js';
import type { JobKind } from './kind.js';
import type { KeyRing } from '../partners/api-keys.js';
import { jobMetrics } from './metrics.js';
import { pack, unpack } from './pack.js';
import { parsePrefer } from './prefer.js';
import jobRoutes from './routes.js';
import { S3BlobStore } from './s3-blob-store.js';
import { resultKey, type JobQueue, type RunnerDeps } from './runner.js';
import { EmbeddedQueue } from './scheduler.js';
import type { JobStore } from './store.js';
import { Webhooks } from './webhooks.js';
import { activeTraceparent } from '../trace-context.js';

declare module 'fastify' {
  interface FastifyInstance {
    jobs: {
      service: Jobs;
      /** Makes a route's work available as jobs. */
      register(kind: JobKind): void;
      /**
       * A route's answer: the work done now, or (with `Prefer: respond-async`) a job. The input
       * is collected and validated first either way, so a bad request is its 4xx at once.
       */
      serve<I, O>(request: FastifyRequest, reply: FastifyReply, kind: JobKind<I, O>, collect: () => Promise<I>): Promise<FastifyReply | object>;
      /** A finished job's answer: the synchronous route's, or the job's problem. */
      answer(request: FastifyRequest, reply: FastifyReply, job: JobRecord): Promise<FastifyReply | object>;
    };
  }
}

/**
 * Jobs (docs/jobs.md): long work accepted at once, stored, run in the background, and
 * answered later by /v1/jobs. The embedded store keeps everything under JOB_STORE_DIR.
 */
export default fp<{ config: Config; keys: KeyRing | undefined }>(
  async (app, { config, keys: keyRing }) => {
    // Worker processes (WORKERS > 1) cannot share the embedded store: without REDIS_URL they
    // do the work while the request waits, as RFC 7240 allows a server to ignore a preference.
    const embeddedShared = config.workers > 1 && !config.redisUrl;
    if (embeddedShared) app.log.warn('jobs: off with WORKERS > 1 and no REDIS_URL; Prefer: respond-async is answered synchronously');
    const dir = config.jobs.storeDir;
    const kinds = new Map<JobKindName, JobKind>();
    // With REDIS_URL, jobs live in Redis and every replica shares them; else on disk, for one process.
    const redisStore = config.redisUrl ? new RedisJobStore(config.redisUrl, app.log, (up) => app.metrics.redisUp('jobs', up)) : undefined;
    const store: JobStore = redisStore ?? new FileJobStore(dir, app.log);
    if (!embeddedShared) {
      try {
        await store.load();
      } catch (err) {
        await store.close();
        throw err;
      }
    }
    const s3 = config.jobs.s3 && new S3BlobStore(config.jobs.s3);
    const blobs: BlobStore = s3 ?? new DirBlobStore(join(dir, 'blobs'));
    const metrics = jobMetrics(app.metrics.registry);
    const capacity = (backend: BackendName) => {
      const instances = app.rpc.snapshot().filter((i) => i.backend === backend).length;
      return Math.max(1, instances) * config.backends[backend].maxConnections;
    };
    const runner: RunnerDeps = {
      store,
      blobs,
      rpc: app.rpc,
      kinds,
      config: config.jobs,
      log: app.log,
      finished: (job) => metrics.finished(job),
      used: (partner, route, counts) => app.usage.count(partner, route, counts),
    };
    const queue: JobQueue = redisStore
      ? new BullQueue({ ...runner, capacity, redisUrl: config.redisUrl!, role: config.jobs.role, lockMs: config.jobs.lockMs, redis: redisStore.client })
      : new EmbeddedQueue({ ...runner, capacity });
    const service = new Jobs(store, blobs, queue, config.jobs, app.log);
    const keys = new IdempotencyKeys(store);
    metrics.watch(service);
    const webhooks = new Webhooks({
      store,
      webhookOf: (partner) => keyRing?.partners.get(partner)?.webhook,
      config: config.jobs.webhooks,
      log: app.log,
      counted: metrics.delivery,
    });
    // Sent by the process that made the change only, though every process hears of it.
    store.on('change', (job, local) => {
      if (!local) return;
      webhooks.changed(job, () => service.view(job)).catch((err: unknown) => app.log.error({ err, job: job.id }, 'jobs: a webhook could not be queued'));
    });

    const answer = async (request: FastifyRequest, reply: FastifyReply, job: JobRecord): Promise<FastifyReply | object> => {
      switch (job.status) {
        case 'succeeded': {
          const result = await blobs.get(resultKey(job.id));
          if (!result) throw new ApiError('JOB_EXPIRED');
          return kinds.get(job.kind)!.answer(request, reply, unpack(result), job.logid);
        }
        case 'failed': {
          // The body's log id is this answer's, as its header's (CONTRACT: a quoted log id finds
          // this request's log lines); the job's run logged under the submitting request's.
          const problem: Problem = { ...job.error!, logid: request.id, job_logid: job.logid };
          return reply.code(problem.status).type('application/problem+json').send(problem);
        }
        case 'canceled':
          throw new ApiError('JOB_CANCELED');
        case 'expired':
          throw new ApiError('JOB_EXPIRED');
        default:
          throw new ApiError('JOB_NOT_FINISHED', undefined, { headers: { 'retry-after': String(POLL_AFTER_S) } });
      }
    };

    const submit = async <I>(request: FastifyRequest, reply: FastifyReply, kind: JobKind<I>, collect: () => Promise<I>, wait: number | undefined) => {
      const key = idempotencyKey(request.headers['idempotency-key']);
      const claim = key === undefined ? undefined : await keys.claim(request.partner, key);
      let job: JobRecord;
      try {
        const input = pack(await collect());
        const print = fingerprint(kind.name, input);
        if (claim?.record) {
          if (claim.record.fingerprint !== print) throw new ApiError('IDEMPOTENCY_KEY_REUSED');
          job = (await store.get(claim.record.job_id))!;
        } else {
          const id = newJobId();
          // The key names the job before the job exists: a process killed in between leaves a
          // key to no job, which counts as no key.
          if (claim) await store.saveKey(claim.scoped, { fingerprint: print, job_id: id, expires_at: new Date(Date.now() + KEY_LIFETIME_MS).toISOString() });
          // With tracing on, the request's own span (the job run links to it); else what came in.
          const traceparent = activeTraceparent() ?? request.callContext().traceparent;
          job = await service.create({
            id,
            kind: kind.name,
            partner: request.partner,
            logid: request.id,
            clientAddr: request.ip,
            input,
            ...(traceparent ? { traceparent } : {}),
          });
          request.log.info({ job: job.id, kind: kind.name }, 'job accepted');
        }
      } finally {
        if (claim && !claim.record) await keys.release(claim.scoped);
      }
      if (wait) {
        const now = await service.waitFinal(job.id, Math.min(wait, MAX_WAIT_S) * 1000);
        if (now && (now.status === 'succeeded' || now.status === 'failed')) return answer(request, reply, now);
        job = now ?? job;
      }
      reply.code(202).header('location', jobUrl(job.id)).header('preference-applied', 'respond-async').header('retry-after', String(POLL_AFTER_S));
      return service.view(job);
    };

    app.decorate('jobs', {
      service,
      register: (kind: JobKind) => void kinds.set(kind.name, kind),
      async serve<I, O>(request: FastifyRequest, reply: FastifyReply, kind: JobKind<I, O>, collect: () => Promise<I>) {
        const prefer = parsePrefer(request.headers.prefer);
        if (prefer.respondAsync && !embeddedShared) return submit(request, reply, kind, collect, prefer.wait);
        return kind.answer(request, reply, await kind.run(app.rpc, await collect(), request.callContext()));
      },
      answer,
    });

    const sweep = () => service.sweep().catch((err: unknown) => app.log.error({ err }, 'jobs: expiry sweep failed'));
    const sweeper = setInterval(sweep, Math.min(60_000, Math.max(1000, (config.jobs.resultTtlS * 1000) / 4))).unref();
    app.addHook('onReady', async () => {
      if (embeddedShared) return;
      await s3?.check();
      await webhooks.start().catch((err: unknown) => app.log.warn({ err }, 'jobs: pending webhook deliveries could not be read; not resumed'));
      await sweep();
      // Jobs left unfinished by an earlier process run again, now that every route has said what it runs.
      await queue.start();
    });
    app.addHook('onClose', async () => {
      clearInterval(sweeper);
      webhooks.stop();
      await queue.stop();
      await store.close();
      s3?.close();
    });

    await app.register(jobRoutes, { keepAliveS: config.jobs.eventsKeepAliveS });
  },
  { name: 'jobs', dependencies: ['rpc', 'metrics', 'partners', 'request-context', 'usage'] },
);
