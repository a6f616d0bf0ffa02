import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Socket } from 'node:net';
import type { BodyTiming } from '../config/schema.js';
import { ApiError } from '../errors.js';
import type { BodyMeter } from '../input/read-body.js';
import { bodyLimitOf, contentLength, payloadTooLarge } from '../limits/body.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Watches this request's body while it arrives; undefined for a request without one. */
    bodyGuard: BodyGuard | undefined;
  }
}

/** How long a client whose body was cut off gets to read its 408 before the socket is destroyed. */
const CUT_GRACE_MS = 2000;

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/**
 * One request's body. Its bytes are counted as the readers take them: a body without a
 * Content-Length (chunked) takes its bytes from the in-flight budget as they come, and is held
 * to the route's limit as they come, so it gets the same 503 or 413 at once that a
 * Content-Length would have got before the body. A read that waits on a body given up on
 * fails with that answer (408).
 */
export class BodyGuard implements BodyMeter {
  private received = 0;
  private given = 0;
  /** Why the body was given up, once it was. */
  private failure: ApiError | undefined;
  /** The reads waiting now, each failed by `abort`. */
  private readonly waiters = new Set<(err: ApiError) => void>();
  /** Reads waiting for the body right now: the 408 goes through one of them, when there is one. */
  waiting = 0;
  /** This body's place on the plugin's watch list, while it is on it. */
  watch: Watched | undefined;

  constructor(
    private readonly limit: number,
    private readonly what: string,
    /** Takes bytes from the in-flight budget (false: it has none left); undefined when a Content-Length reserved them all already. */
    private readonly reserve: ((bytes: number) => boolean) | undefined,
  ) {}

  take(bytes: number): void {
    this.received += bytes;
    if (this.received > this.limit) throw payloadTooLarge(`The ${this.what} body`, this.limit);
    if (this.reserve) {
      if (!this.reserve(bytes)) throw new ApiError('GATEWAY_OVERLOADED', 'The gateway holds as many request bytes as it may; try again shortly.');
      this.given += bytes;
    }
  }

  /** Body bytes its readers have taken so far (usage counts a chunked body by them). */
  get bytes(): number {
    return this.received;
  }

  /** Bytes taken from the in-flight budget so far, to give back when the request ends. */
  get reserved(): number {
    return this.given;
  }

  /**
   * `next` (a read of the body), or the reason the body was given up. A promise of its own per
   * read, not one shared by all: each race leaves a reaction on the promises it raced, and one
   * that never settles held every chunk read through it until the request was gone, one more
   * copy of every body (measure:memory: 2.0x a raw zip's size, was 1.2x).
   */
  async waitFor<T>(next: Promise<T>): Promise<T> {
    if (this.failure) throw this.failure;
    let fail!: (err: ApiError) => void;
    const gaveUp = new Promise<never>((_, reject) => (fail = reject));
    this.waiters.add(fail);
    this.waiting++;
    try {
      return await Promise.race([next, gaveUp]);
    } finally {
      this.waiting--;
      this.waiters.delete(fail);
    }
  }

  /** Fails the reads waiting now and any later one with `err`. */
  abort(err: ApiError): void {
    this.failure ??= err;
    for (const fail of this.waiters) fail(err);
  }
}

interface Watched {
  /** Where it is in the watch list; -1 once off it. */
  index: number;
  request: FastifyRequest;
  reply: FastifyReply;
  socket: Socket;
  startedAt: number;
  lastBytes: number;
  lastProgressAt: number;
  windowAt: number;
  windowBytes: number;
}

/**
 * Request bodies are bounded in time as well as bytes, whatever their framing: a body must
 * average `minBytesPerSecond` over each rate window, never pause longer than `maxPauseMs`, and be
 * whole within `timeoutMs`. A body that fails any of these is cut off: 408 when nothing was
 * answered yet, then the connection is closed, which also gives back the in-flight bytes its
 * Content-Length had reserved. Node's own `requestTimeout` is one deadline, checked every 30 s;
 * it knows no rate or pause, so a body trickling a byte every 10 s held its reservation for it.
 *
 * Progress is the socket's `bytesRead`, sampled on one timer for all bodies: it counts bytes
 * arriving whether or not a reader has taken them yet.
 */
export default fp<{ timing: BodyTiming }>(
  async (app, { timing }) => {
    app.decorateRequest('bodyGuard', undefined);
    // The bodies being watched: an array, each entry knowing its index, not a Map keyed by
    // request. V8 gives a Map (or Set) whose entries come and go a new table now and then, and
    // points the old table at the new one (for iterators under way). Once a table had been
    // moved to the old generation (by any full collection), each dead table kept the next one
    // alive through young collections, with every request in it, and these were moved to the
    // old generation in turn, for the rest of the process's life: ~550 KB of finished requests
    // promoted per young collection instead of 5 KB, each collection 4-5 ms instead of 1.2, CPU
    // per request +20 % here and 2-3x on 16 cores (docs/performance.md).
    const watched: Watched[] = [];
    const unwatch = (w: Watched) => {
      if (w.index < 0) return;
      const last = watched.pop()!;
      if (last !== w) {
        watched[w.index] = last;
        last.index = w.index;
      }
      w.index = -1;
    };
    const tickMs = Math.max(50, Math.min(1000, Math.min(timing.maxPauseMs, timing.rateWindowMs) / 4));
    let timer: NodeJS.Timeout | undefined;

    const cut = (w: Watched, why: string) => {
      unwatch(w);
      const { request, reply, socket } = w;
      setTimeout(() => socket.destroy(), CUT_GRACE_MS).unref();
      const err = new ApiError('REQUEST_TIMEOUT', `${why}; the connection is closed.`);
      if (reply.sent) {
        // Answered already (a refused body being drained): its log line is written; this says why it ended so.
        request.log.info({ code: err.code }, why);
        socket.destroy();
      } else if (request.bodyGuard && request.bodyGuard.waiting > 0) request.bodyGuard.abort(err);
      else {
        request.bodyGuard?.abort(err);
        // Through the error handler, as any refusal: the answer's form, its log line.
        reply.send(err);
      }
    };

    const check = () => {
      const now = performance.now();
      // Backwards: taking an entry off moves the last one, already seen, into its place.
      for (let i = watched.length - 1; i >= 0; i--) {
        const w = watched[i]!;
        if (w.request.raw.complete || w.socket.destroyed) {
          unwatch(w);
          continue;
        }
        const bytes = w.socket.bytesRead;
        if (bytes !== w.lastBytes) {
          w.lastBytes = bytes;
          w.lastProgressAt = now;
        }
        if (now - w.startedAt > timing.timeoutMs) {
          cut(w, `The body was not whole after ${seconds(timing.timeoutMs)} (BODY_TIMEOUT_MS)`);
        } else if (now - w.lastProgressAt > timing.maxPauseMs) {
          cut(w, `No byte of the body arrived for ${seconds(now - w.lastProgressAt)}; pauses of ${seconds(timing.maxPauseMs)} at most are waited for`);
        } else if (now - w.windowAt >= timing.rateWindowMs) {
          const rate = ((bytes - w.windowBytes) * 1000) / (now - w.windowAt);
          if (rate < timing.minBytesPerSecond) {
            cut(w, `The body arrived at ${Math.round(rate)} bytes/s over the last ${seconds(now - w.windowAt)}; at least ${timing.minBytesPerSecond} bytes/s are needed`);
          } else {
            w.windowAt = now;
            w.windowBytes = bytes;
          }
        }
      }
      if (watched.length === 0) {
        clearInterval(timer);
        timer = undefined;
      }
    };

    app.addHook('onRequest', async (request, reply) => {
      const headers = request.headers;
      const length = contentLength(request) ?? 0;
      const chunked = headers['content-length'] === undefined && headers['transfer-encoding'] !== undefined;
      if (length === 0 && !chunked) return;
      const { limit, what } = bodyLimitOf(request);
      const reserve = chunked ? (bytes: number) => app.requestBytes.reserve(bytes) || (app.metrics.shed('inflight_bytes'), false) : undefined;
      const guard = new BodyGuard(limit, what, reserve);
      request.bodyGuard = guard;
      if (chunked) reply.raw.once('close', () => app.requestBytes.release(guard.reserved));
      const socket = request.raw.socket;
      const now = performance.now();
      guard.watch = { index: watched.length, request, reply, socket, startedAt: now, lastBytes: socket.bytesRead, lastProgressAt: now, windowAt: now, windowBytes: socket.bytesRead };
      watched.push(guard.watch);
      timer ??= setInterval(check, tickMs).unref();
    });
    // A body whole by the time its request is answered needs no more watching. Left to the next
    // tick (up to a second later), every answered request was kept alive until then, its whole
    // object graph: under load every young collection found a second's worth of requests alive
    // and moved them to the old generation, where only full collections free them.
    app.addHook('onResponse', async (request) => {
      if (request.raw.complete && request.bodyGuard?.watch) unwatch(request.bodyGuard.watch);
    });
    app.addHook('onClose', async () => {
      clearInterval(timer);
      for (const w of watched) w.index = -1;
      watched.length = 0;
    });
  },
  { name: 'body-guard', dependencies: ['error-handler', 'load-shedding', 'metrics'] },
);
