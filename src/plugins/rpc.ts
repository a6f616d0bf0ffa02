import { lookup } from 'node:dns/promises';
import fp from 'fastify-plugin';
import type { Config } from '../config/schema.js';
import { baseInterceptor, errorInterceptor, imagesInterceptor, loggingInterceptor, stageInterceptor, traceInterceptor } from '../rpc/interceptors.js';
import { RpcClient } from '../rpc/rpc-client.js';
import { errorCodeOf } from '../rpc-to-http.js';

/** Every address of a host name, as the system resolver (getaddrinfo) gives them. */
const lookupAll = async (host: string) => (await lookup(host, { all: true })).map((a) => a.address);

declare module 'fastify' {
  interface FastifyInstance {
    rpc: RpcClient;
  }
}

/** The Thrift client for every backend, as `app.rpc`, closed with the app. */
export default fp<{ config: Config; tracing: boolean }>(
  async (app, { config, tracing }) => {
    const interceptors = [
      stageInterceptor,
      imagesInterceptor,
      ...(tracing ? [traceInterceptor(errorCodeOf)] : []),
      app.metrics.rpcInterceptor,
      loggingInterceptor,
      errorInterceptor,
      baseInterceptor(config.caller),
    ];
    const rpc = new RpcClient(config, interceptors, {
      log: app.log,
      ejected: app.metrics.ejected,
    });
    app.decorate('rpc', rpc);
    app.metrics.watch(rpc);
    app.addHook('onClose', async () => rpc.close());
    await rpc.startResolving(lookupAll, config.resolveIntervalMs);
  },
  { name: 'rpc', dependencies: ['metrics'] },
);
