import multipart from '@fastify/multipart';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.js';

export interface BodyLimits {
  /** Largest image, raw or as a multipart file part. */
  imageBytes: number;
  /** Largest JSON body: the image in base64 plus room for the other fields. */
  jsonBytes: number;
  /** Largest multipart body: one image plus the other parts. */
  multipartBytes: number;
}

const FIELDS_ROOM = 64 * 1024;

/** The limits of a route whose payload is at most `payloadBytes` (an image, or a capture set). */
export function bodyLimits(payloadBytes: number): BodyLimits {
  return {
    imageBytes: payloadBytes,
    jsonBytes: Math.ceil(payloadBytes / 3) * 4 + FIELDS_ROOM,
    multipartBytes: payloadBytes + FIELDS_ROOM,
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route's own limits, where its payload is not one image. */
    bodyLimits?: BodyLimits;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    bodyLimits: BodyLimits;
  }
}

/**
 * A raw body in one buffer. With a Content-Length it is allocated once and filled as the body
 * arrives (fastify's own parser keeps the chunks and then concatenates them: the payload twice
 * over for a moment, which for a 50 MB capture set shows in the process's memory).
 */
async function readRawBody(payload: NodeJS.ReadableStream, declared: number, limit: number): Promise<Buffer> {
  const tooLarge = () => new ApiError('PAYLOAD_TOO_LARGE', `The body is larger than the ${limit} bytes this route accepts.`);
  if (declared > limit) throw tooLarge();
  const known = Number.isInteger(declared) && declared >= 0;
  const whole = known ? Buffer.allocUnsafe(declared) : undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of payload as AsyncIterable<Buffer>) {
    if (received + chunk.length > (known ? declared : limit)) throw known ? new ApiError('BAD_REQUEST', 'The body is longer than its Content-Length.') : tooLarge();
    if (whole) chunk.copy(whole, received);
    else chunks.push(chunk);
    received += chunk.length;
  }
  if (whole && received !== declared) throw new ApiError('BAD_REQUEST', 'The body is shorter than its Content-Length.');
  return whole ?? Buffer.concat(chunks, received);
}

/**
 * The body forms of the contract, each with its own size limit: JSON, raw images (any
 * `image/*`, so a HEIC or GIF upload is told what it is rather than "unsupported media type"),
 * `application/octet-stream`, and multipart (streamed; parts are read by the route).
 * Nothing else is parsed: fastify's text/plain parser is removed.
 */
export default fp<{ limits: BodyLimits }>(
  async (app, { limits }) => {
    app.decorate('bodyLimits', limits);
    const json = app.getDefaultJsonParser('error', 'error');
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: limits.jsonBytes }, json);
    for (const type of [/^image\/[\w.+-]+$/, 'application/octet-stream', 'application/zip']) {
      app.addContentTypeParser(type, (request, payload, done) => {
        readRawBody(payload, Number(request.headers['content-length']), (request.routeOptions.config.bodyLimits ?? limits).imageBytes).then(
          (body) => done(null, body),
          (err: Error) => done(err),
        );
      });
    }
    await app.register(multipart, {
      limits: { fileSize: limits.imageBytes, files: 1, fields: 16, fieldSize: 4096, parts: 17, headerPairs: 100 },
    });
    // Multipart bodies are streamed, so fastify's Content-Length check does not cover them;
    // nor does it know a route's own limit for a raw body.
    app.addHook('onRequest', async (request) => {
      const length = Number(request.headers['content-length']);
      const own = request.routeOptions.config.bodyLimits ?? limits;
      const type = request.headers['content-type'] ?? '';
      const limit = type.startsWith('multipart/') ? own.multipartBytes : type.startsWith('application/json') ? own.jsonBytes : own.imageBytes;
      if (length > limit) throw new ApiError('PAYLOAD_TOO_LARGE', `The ${type.split(';')[0]} body is larger than the ${limit} bytes this route accepts.`);
    });
  },
  { name: 'body-parsers' },
);
