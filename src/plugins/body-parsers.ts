import multipart from '@fastify/multipart';
import { errorCodes, type FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { parseJsonBody, shapeOf, type JsonShape } from '../input/json-body.js';
import { resolveRef } from '../schemas/json-schema.js';
import { BufferPool } from '../input/buffer-pool.js';
// Before any form is parsed: a fix to the multipart parser (see the file).
import '../input/multipart-parser-fix.js';
import { readBody } from '../input/read-body.js';
import { busboyFileSize, checkContentLength, contentLength, mediaType, routeLimits, type BodyLimits } from '../limits/body.js';

/**
 * Base64 members are thousands of bytes; option values are a few. The largest body a route
 * takes (200 photos with a name each) holds about 600 values; 2,000 are parsed in a few ms.
 */
const JSON_BODY = { rawStringBytes: 1024, maxDepth: 64, maxValues: 2000 };

/** What a route's JSON body may hold, from its OpenAPI schema: worked out once per schema. */
const shapes = new WeakMap<object, JsonShape | undefined>();
function jsonShape(request: FastifyRequest): JsonShape | undefined {
  const schema = (request.routeOptions.schema?.body as { content?: Record<string, { schema?: Record<string, unknown> }> } | undefined)?.content?.['application/json']?.schema;
  if (!schema) return undefined;
  if (!shapes.has(schema)) shapes.set(schema, shapeOf(resolveRef(schema)));
  return shapes.get(schema);
}

declare module 'fastify' {
  interface FastifyInstance {
    bufferPool: BufferPool;
  }
  interface FastifyRequest {
    /** A buffer for this request's payload, from the pool when it is big; given back once the request is answered. */
    allocate(size: number): Buffer;
    leases: Array<() => void> | undefined;
    /** A client that holds its body back until asked (`Expect: 100-continue`, see app.ts), not asked yet. */
    readonly awaitsInvitation: boolean;
    bodyInvited: boolean;
  }
}

/**
 * Payloads from 64 KiB are pooled; at most 256 MiB (or the in-flight limit) of idle buffers are
 * kept, for 30 s. Photos of 100 KB are pooled too: a fresh buffer per request was, in the
 * keypoint route's profile, a tenth of its CPU in copying the body into memory the kernel had
 * yet to map, and more work for the collector, which frees external memory late.
 */
const POOL = { minBytes: 64 * 1024, maxIdleBytes: 256 * 1024 * 1024, idleMs: 30_000 };

/** Raw bodies (any `image/*`, so a HEIC upload is told what it is), each with the parser below. */
const RAW_TYPES: Array<string | RegExp> = [/^image\/[\w.+-]+$/, 'application/octet-stream', 'application/zip'];

/**
 * Whether a body of this Content-Type is read at all: JSON, multipart (@fastify/multipart's
 * parser) or raw. Not fastify's hasContentTypeParser, which compares registrations (a RegExp
 * by its source), not a request's type against them.
 */
function isParsed(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type === 'application/json' || type === 'multipart/form-data' || RAW_TYPES.some((t) => (typeof t === 'string' ? t === type : t.test(type)));
}

/**
 * The body forms of the contract, each with its own size limit: JSON, raw images (any
 * `image/*`, so a HEIC or GIF upload is told what it is rather than "unsupported media type"),
 * `application/octet-stream`, and multipart (streamed; parts are read by the route).
 * Nothing else is parsed: fastify's text/plain parser is removed.
 */
export default fp<{ limits: BodyLimits; maxInflightBytes: number }>(
  async (app, { limits, maxInflightBytes }) => {
    app.decorate('bodyLimits', limits);
    const pool = new BufferPool(POOL.minBytes, Math.min(POOL.maxIdleBytes, maxInflightBytes), POOL.idleMs);
    app.decorate('bufferPool', pool);
    app.addHook('onClose', async () => pool.close());
    app.decorateRequest('leases', undefined);
    app.decorateRequest('allocate', function (this: FastifyRequest, size: number) {
      const { buffer, release } = pool.lease(size);
      (this.leases ??= []).push(release);
      return buffer;
    });
    // Only once answered: until then the handler may still read the payload. A request whose
    // client went away before its answer keeps its buffers, and the collector frees them.
    app.addHook('onResponse', async (request) => {
      for (const release of request.leases ?? []) release();
    });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', (request, payload, done) => {
      readBody(payload, { exact: contentLength(request), limit: routeLimits(request).jsonBytes, allocate: (n) => request.allocate(n), meter: request.bodyGuard })
        .then((body) => parseJsonBody(body, { ...JSON_BODY, shape: jsonShape(request) }))
        .then((json) => done(null, json), done);
    });
    for (const type of RAW_TYPES) {
      app.addContentTypeParser(type, (request, payload, done) => {
        readBody(payload, { exact: contentLength(request), limit: routeLimits(request).imageBytes, allocate: (n) => request.allocate(n), meter: request.bodyGuard }).then(
          (body) => done(null, body),
          done,
        );
      });
    }
    await app.register(multipart, {
      limits: { fileSize: busboyFileSize(limits.imageBytes), files: 1, fields: 16, fieldSize: 4096, parts: 17, headerPairs: 100 },
    });
    // A declared length over the route's limit is refused before the body is read. After the
    // body guard's hook (registered before this plugin): a refused body's drain is watched too.
    app.addHook('onRequest', async (request) => checkContentLength(request));
    // Every refusal from the headers has been made by now (onRequest): the body may come.
    app.decorateRequest('bodyInvited', false);
    app.decorateRequest('awaitsInvitation', {
      getter(this: FastifyRequest) {
        // Node's own test for the expectation (lib/_http_server.js).
        return !this.bodyInvited && !this.raw.complete && this.raw.httpVersion === '1.1' && /(?:^|\W)100-continue(?:$|\W)/i.test(this.headers.expect ?? '');
      },
    });
    // A callback hook, not an async one: it runs for every request and almost never acts. A
    // body that would not be read (no route, no parser for its type) is refused uninvited, with
    // the answer reading it would have led to.
    app.addHook('preParsing', (request, reply, payload, done) => {
      if (!request.awaitsInvitation) return done(null, payload);
      if (request.is404) return done(app.routeMissing(request));
      if (!isParsed(request.headers['content-type'])) return done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(request.headers['content-type']));
      reply.raw.writeContinue();
      request.bodyInvited = true;
      done(null, payload);
    });
  },
  { name: 'body-parsers', dependencies: ['body-guard', 'error-handler'] },
);
