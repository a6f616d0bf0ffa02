import type { AddressInfo, Socket } from 'node:net';
import thrift from 'thrift';
import type { ProtocolKind, TransportKind } from '../config/schema.js';
import { PROTOCOLS } from '../rpc/transport.js';

export interface ServeOptions {
  host: string;
  port: number;
  transport: TransportKind;
  protocol: ProtocolKind;
  /** Largest request frame the server accepts. */
  maxFrameBytes: number;
}

export interface RunningServer {
  port: number;
  /** Connections open now (tests: whether the gateway has closed the ones it gave up). */
  connections(): number;
  /** Connections closed so far, by either side. */
  closedConnections(): number;
  close(): Promise<void>;
}

/**
 * Serves a generated Processor over TCP with the given transport and protocol. Shared by the
 * reference backends, the tests' fake backends and the bench, so it lives outside any backend.
 */
export function serveThrift(Processor: unknown, handler: object, opts: ServeOptions): Promise<RunningServer> {
  const server = thrift.createServer(Processor as never, handler as never, {
    transport: opts.transport === 'framed' ? thrift.TFramedTransport : thrift.TBufferedTransport,
    // Strict, so that a framed request is refused at once instead of read as a name length.
    protocol: PROTOCOLS[opts.protocol],
    maxLength: opts.maxFrameBytes,
  } as never);
  // The thrift server reports a request it cannot parse as an 'error' event, then closes that
  // connection; without a listener the event would crash the backend instead.
  server.on('error', (err: Error) => console.error(`thrift server: ${err.message}; connection closed`));
  const sockets = new Set<Socket>();
  let closed = 0;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      closed++;
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        connections: () => sockets.size,
        closedConnections: () => closed,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Gateways hold pooled connections open: drop them so close() returns.
            for (const socket of sockets) socket.destroy();
          }),
      });
    });
  });
}
