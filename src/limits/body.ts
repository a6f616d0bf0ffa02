import type { FastifyRequest } from 'fastify';
import { ApiError, formatBytes } from '../errors.js';

/**
 * Request body limits, in one place: what each route accepts in each body form, the one
 * reading of Content-Length, and the 413 every refusal of a too-large body answers with.
 * Plugins (body parsers, body guard, load shedding, metrics, logs, usage) and routes read them
 * from here.
 */

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
  interface FastifyInstance {
    /** The body limits of a route that has none of its own (MAX_IMAGE_BYTES); set by the body-parsers plugin. */
    bodyLimits: BodyLimits;
  }
  interface FastifyContextConfig {
    /** A route's own limits, where its payload is not one image. */
    bodyLimits?: BodyLimits;
  }
}

/** The body limits of the route a request matched. */
export function routeLimits(request: FastifyRequest): BodyLimits {
  return request.routeOptions.config.bodyLimits ?? request.server.bodyLimits;
}

/** A Content-Type's media type, without parameters, in small letters (RFC 9110: case-insensitive, as fastify's parsers take it). */
export const mediaType = (contentType: string | undefined): string => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

/** The limit of a request's body on its route, by its Content-Type, and the type's name. */
export function bodyLimitOf(request: FastifyRequest): { limit: number; what: string } {
  const own = routeLimits(request);
  const type = mediaType(request.headers['content-type']);
  const limit = type.startsWith('multipart/') ? own.multipartBytes : type.startsWith('application/json') ? own.jsonBytes : own.imageBytes;
  return { limit, what: type || 'request' };
}

/**
 * The bytes a Content-Length (a request's header, or an answer's) says; undefined without one
 * or with one that is not a byte count. Node refuses a malformed one in a request before it
 * gets here; an injected request or an answer's header may still carry anything.
 */
export function lengthOf(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** The request's Content-Length, when it has one. */
export const contentLength = (request: { headers: { 'content-length'?: string } }): number | undefined => lengthOf(request.headers['content-length']);

/** Bytes a Content-Length says, for counting: 0 without one, or with a bad one. */
export const bytesOf = (value: unknown): number => lengthOf(value) ?? 0;

/**
 * A request's body bytes, for counting (usage, metrics, the log line): its Content-Length, else
 * (chunked) the bytes the body guard counted as its readers took them; of a multipart body, its
 * file parts.
 */
export const bodyBytes = (request: FastifyRequest): number => contentLength(request) ?? request.bodyGuard?.bytes ?? 0;

/** The answer to a body, or a part of one, over its limit; `size` when it is known before reading (a Content-Length). */
export function payloadTooLarge(name: string, limit: number, size?: number): ApiError {
  return new ApiError(
    'PAYLOAD_TOO_LARGE',
    size === undefined
      ? `${name} is larger than the ${formatBytes(limit)} this route accepts.`
      : `${name} is ${formatBytes(size)}, more than the ${formatBytes(limit)} this route accepts.`,
  );
}

/**
 * A request whose Content-Length is over its route's limit: refused before any of the body is
 * read. The one check of a declared length: fastify's own (its `bodyLimit`) is made only by its
 * built-in parsers, which body-parsers.ts replaces, and multipart bodies are streamed.
 */
export function checkContentLength(request: FastifyRequest): void {
  const length = contentLength(request);
  if (length === undefined) return;
  const { limit, what } = bodyLimitOf(request);
  if (length > limit) throw payloadTooLarge(`The ${what} body`, limit, length);
}

/**
 * busboy's per-file limit for parts we read with a limit of `limit`: one byte more, so that our
 * reader (read-body.ts) is the one that refuses the part, with its words and the part's name,
 * rather than busboy cutting the part short for @fastify/multipart to answer "request file too large".
 */
export const busboyFileSize = (limit: number): number => limit + 1;
