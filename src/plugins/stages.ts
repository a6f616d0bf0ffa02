import fp from 'fastify-plugin';

/** Where a request's time goes, in order. Multipart bodies are read by the route: their reading counts as decode. */
export const STAGES = ['receive', 'decode', 'validate', 'rpc', 'encode'] as const;
export type Stage = (typeof STAGES)[number];

/** Splits a request's time into stages: each `enter` closes the stage before it. */
export class StageClock {
  readonly ms: Partial<Record<Stage, number>> = {};
  private current: Stage | undefined = 'receive';
  private since = performance.now();

  enter(stage: Stage | undefined): void {
    const now = performance.now();
    if (this.current) this.ms[this.current] = (this.ms[this.current] ?? 0) + (now - this.since);
    this.current = stage;
    this.since = now;
  }

  /** Closes the stage in progress; the answer is sent. */
  end(): Partial<Record<Stage, number>> {
    this.enter(undefined);
    return this.ms;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    stages: StageClock;
  }
}

/** receive: until the body is parsed; decode and validate: marked by the routes; rpc and encode: by the backend call. */
export default fp(
  async (app) => {
    app.decorateRequest('stages', null as unknown as StageClock);
    app.addHook('onRequest', async (request) => {
      request.stages = new StageClock();
    });
    app.addHook('preHandler', async (request) => {
      request.stages.enter('decode');
    });
    // First of the onResponse hooks (this plugin is registered first): the metrics and the log line read closed stages.
    app.addHook('onResponse', async (request) => {
      request.stages.end();
    });
  },
  { name: 'stages' },
);
