import net, { type AddressInfo } from 'node:net';
import base from '../../gen/thrift/base_types.js';
import ArScanService from '../../gen/thrift/ArScanService.js';
import arscan from '../../gen/thrift/arscan_types.js';
import Image3DService from '../../gen/thrift/Image3DService.js';
import image3d from '../../gen/thrift/image3d_types.js';
import KeypointService from '../../gen/thrift/KeypointService.js';
import keypoint from '../../gen/thrift/keypoint_types.js';
import type { ProtocolKind, TransportKind } from '../../src/config/schema.js';
import { serveThrift, type RunningServer } from '../../src/backends/thrift-server.js';

export interface FakeBackend<Req> extends RunningServer {
  /** Every request the backend received, in order. */
  requests: Req[];
  address: string;
}

type Wire = { transport?: TransportKind; protocol?: ProtocolKind; port?: number; host?: string };

/** A real Thrift server for one method, whose answers the test decides. */
async function fakeService<Req, Res>(Processor: unknown, method: string, handler: (req: Req) => Promise<Res> | Res, wire: Wire): Promise<FakeBackend<Req>> {
  const requests: Req[] = [];
  const server = await serveThrift(
    Processor,
    {
      [method]: async (req: Req) => {
        requests.push(req);
        return handler(req);
      },
    },
    { host: wire.host ?? '127.0.0.1', port: wire.port ?? 0, transport: wire.transport ?? 'framed', protocol: wire.protocol ?? 'binary', maxFrameBytes: 64 << 20 },
  );
  return { ...server, requests, address: `${wire.host ?? '127.0.0.1'}:${server.port}` };
}

export type FakeKeypoint = FakeBackend<keypoint.DetectRequest>;

export const fakeKeypoint = (handler: (req: keypoint.DetectRequest) => Promise<keypoint.DetectResponse> | keypoint.DetectResponse, wire: Wire = {}) =>
  fakeService(KeypointService.Processor, 'Detect', handler, wire);

export const fakeImage3d = (handler: (req: image3d.RenderRequest) => Promise<image3d.RenderResponse> | image3d.RenderResponse, wire: Wire = {}) =>
  fakeService(Image3DService.Processor, 'Render', handler, wire);

export const fakeArscan = (handler: (req: arscan.ReconstructRequest) => Promise<arscan.ReconstructResponse> | arscan.ReconstructResponse, wire: Wire = {}) =>
  fakeService(ArScanService.Processor, 'Reconstruct', handler, wire);

export const ok = (fields: Partial<keypoint.DetectResponse> = {}) =>
  new keypoint.DetectResponse({ faces: [], BaseResp: new base.BaseResp({ StatusCode: 0 }), ...fields });

export const status = (code: number, message = `status ${code}`) =>
  new keypoint.DetectResponse({ BaseResp: new base.BaseResp({ StatusCode: code, StatusMessage: message }) });

export interface RawBackend {
  address: string;
  port: number;
  /** Requests (whole frames) received. */
  frames: number;
  /** Connections the gateway has closed or lost. */
  closes: number;
  close(): Promise<void>;
}

/**
 * A TCP server that reads each framed request and answers with whatever bytes `reply`
 * writes: the tool for wire-level faults (garbage, huge frames, half frames, closing).
 */
export async function rawBackend(reply: (socket: net.Socket, frame: Buffer) => void): Promise<RawBackend> {
  const sockets = new Set<net.Socket>();
  const state = { frames: 0, closes: 0 };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      state.closes++;
    });
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const frame = pending.subarray(4, 4 + pending.readInt32BE(0));
        pending = pending.subarray(4 + frame.length);
        state.frames++;
        reply(socket, frame);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    port,
    get frames() {
      return state.frames;
    },
    get closes() {
      return state.closes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
