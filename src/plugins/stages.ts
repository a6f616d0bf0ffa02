import fp from 'fastify-plugin';
import { StageClock } from '../stage-clock.js';

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
