import assert from 'node:assert/strict';
import pino from 'pino';
import { ApiError } from '../../src/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { baseInterceptor, errorInterceptor } from '../../src/rpc/interceptors.js';
import { RpcClient, type CallContext } from '../../src/rpc/rpc-client.js';

/** The gateway's Thrift client on its own, for calling backends without HTTP. */
export function rpcClient(env: Record<string, string>): RpcClient {
  return new RpcClient(loadConfig(env), [errorInterceptor, baseInterceptor('test')]);
}

export const ctx = (logid = 'test-call'): CallContext => ({ logid, clientAddr: '127.0.0.1', log: pino({ level: 'silent' }) });

/** 'ok', or what the backend said (the cause behind the ApiError the call ended in). */
export async function causeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof ApiError);
    return (err.cause as Error).message;
  }
}
