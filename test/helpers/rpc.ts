import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { baseInterceptor, errorInterceptor } from '../../src/rpc/interceptors.js';
import { RpcClient, type CallContext } from '../../src/rpc/rpc-client.js';

/** The gateway's Thrift client on its own, for calling backends without HTTP. */
export function rpcClient(env: Record<string, string>): RpcClient {
  return new RpcClient(loadConfig(env), [errorInterceptor, baseInterceptor('test')]);
}

export const ctx = (logid = 'test-call'): CallContext => ({ logid, clientAddr: '127.0.0.1', log: pino({ level: 'silent' }) });
