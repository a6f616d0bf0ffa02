import { parseArgs } from 'node:util';
import type { ProtocolKind, TransportKind } from '../config/schema.js';
import type { RunningServer } from '../shared/thrift-server.js';
import type { BackendOptions } from './serve.js';

/**
 * Runs a reference backend as its own process: `--host`, `--port` (0 picks a free one),
 * `--transport framed|buffered`, `--protocol binary|compact`, and `--precomputed` for
 * benchmarks (see precomputed.ts). Prints the port it listens on,
 * tells a parent process through IPC, and exits cleanly on SIGTERM/SIGINT.
 */
export async function runBackendCli(name: string, start: (opts: BackendOptions) => Promise<RunningServer>): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '9090' },
      transport: { type: 'string', default: 'framed' },
      protocol: { type: 'string', default: 'binary' },
      precomputed: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port} is not a port`);
  if (!['framed', 'buffered'].includes(values.transport)) throw new Error('--transport must be framed or buffered');
  if (!['binary', 'compact'].includes(values.protocol)) throw new Error('--protocol must be binary or compact');
  const server = await start({
    host: values.host,
    port,
    transport: values.transport as TransportKind,
    protocol: values.protocol as ProtocolKind,
    maxFrameBytes: 1024 * 1024 * 1024,
    precomputed: values.precomputed,
  });
  const mode = values.precomputed ? ', answering every call with its first result (benchmark mode)' : '';
  console.log(`${name} reference backend listening on ${values.host}:${server.port} (${values.transport}/${values.protocol})${mode}`);
  process.send?.({ port: server.port });
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // Launched by the gateway: go when it goes.
  process.once('disconnect', stop);
}
