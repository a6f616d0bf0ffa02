import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by `startDraining()`: readiness answers 503 and connections are not kept alive. */
    draining: boolean;
    startDraining(): void;
  }
}

/**
 * The first step of a graceful shutdown, before `close()`: /readyz turns 503 so the load
 * balancer sends no more, and every answer says `Connection: close`, so that no idle
 * keep-alive connection is left to be cut (and no request on it reset) when the listener closes.
 */
export default fp(
  async (app) => {
    app.decorate('draining', false);
    app.decorate('startDraining', function (this: typeof app) {
      this.draining = true;
    });
    app.addHook('onSend', async (_request, reply) => {
      if (app.draining) reply.header('connection', 'close');
    });
    app.addHook('preClose', async () => {
      app.draining = true;
    });
  },
  { name: 'drain' },
);
