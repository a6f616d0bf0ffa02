import fp from 'fastify-plugin';
import { traceparentOf } from '../logid.js';
import { CallerGoneSignal } from '../rpc/caller-signal.js';
import type { CallContext } from '../rpc/rpc-client.js';
import { ANONYMOUS } from '../partners/identity.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** What a backend call needs to know about this request (log id, client, trace). */
    callContext(): CallContext;
    /**
     * Aborts when the client closes its connection before the whole answer is written: its
     * backend call is given up. (fastify's `request.signal` fires once the body has been read.)
     */
    abandoned: CallerGoneSignal;
    /** Images its backend calls processed, for usage. */
    imagesProcessed: number;
  }
}

/**
 * Every answer carries the request's log id (fastify's request id, set by `genReqId`), and
 * every log line too (`requestIdLogLabel: 'logid'`).
 */
export default fp(
  async (app) => {
    app.decorateRequest('imagesProcessed', 0);
    app.decorateRequest('callContext', function (this) {
      const traceparent = traceparentOf(this.raw);
      return {
        logid: this.id,
        clientAddr: this.ip,
        // Base.Client names a partner only when one is known.
        ...(this.partner === ANONYMOUS ? {} : { partner: this.partner }),
        log: this.log,
        signal: this.abandoned,
        stage: (stage) => this.stages.enter(stage),
        processed: (images) => (this.imagesProcessed += images),
        ...(traceparent ? { traceparent } : {}),
      };
    });
    app.decorateRequest('abandoned', null as unknown as CallerGoneSignal);
    app.addHook('onRequest', async (request, reply) => {
      reply.header('x-tt-logid', request.id);
      const abandoned = (request.abandoned = new CallerGoneSignal());
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) abandoned.abort();
      });
    });
  },
  { name: 'request-context' },
);
