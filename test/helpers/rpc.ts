import assert from 'node:assert/strict';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { baseInterceptor, errorInterceptor } from '../../src/rpc/interceptors.js';
import { RpcClient, type CallContext } from '../../src/rpc/rpc-client.js';
import { RpcError } from '../../src/rpc/rpc-error.js';

/** The gateway's Thrift client on its own, for calling backends without HTTP. */
export function rpcClient(env: Record<string, string>): RpcClient {
  return new RpcClient(loadConfig(env), [errorInterceptor, baseInterceptor('test')]);
}

export const ctx = (logid = 'test-call'): CallContext => ({ logid, clientAddr: '127.0.0.1', log: pino({ level: 'silent' }) });

/** 'ok', or how the call failed: the RpcError's message, then what the backend said. */
export async function causeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof RpcError);
    return err.said ? `${err.message}: ${err.said}` : err.message;
  }
}
