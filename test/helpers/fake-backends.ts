import net, { type AddressInfo } from 'node:net';
import thrift from 'thrift';
import base from '../../gen/thrift/base_types.js';
import ArScanService from '../../gen/thrift/ArScanService.js';
import arscan from '../../gen/thrift/arscan_types.js';
import Image3DService from '../../gen/thrift/Image3DService.js';
import image3d from '../../gen/thrift/image3d_types.js';
import KeypointService from '../../gen/thrift/KeypointService.js';
import keypoint from '../../gen/thrift/keypoint_types.js';
import type { ProtocolKind, TransportKind } from '../../src/config/schema.js';
import { serveThrift, type RunningServer } from '../../src/shared/thrift-server.js';

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

/**
 * A keypoint backend that sits on every call asking for `heldFaces` faces until the test ends
 * (other calls are answered at once): calls that hold their connection for as long as wanted.
 */
export async function holdingKeypoint(t: { after(fn: () => unknown): void }, heldFaces: number): Promise<FakeKeypoint> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const be = await fakeKeypoint(async (req) => {
    if (req.max_faces === heldFaces) await held;
    return ok();
  });
  t.after(async () => {
    release();
    await be.close();
  });
  return be;
}

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

/** The method name and seqid of a framed binary call, as `rawBackend` hands it over. */
export function callOf(frame: Buffer): { method: string; seqid: number } {
  const nameLength = frame.readInt32BE(4);
  return { method: frame.toString('utf8', 8, 8 + nameLength), seqid: frame.readInt32BE(8 + nameLength) };
}

/** What `write` writes with the binary protocol, as bytes. */
function binary(write: (out: thrift.TProtocol) => void): Buffer {
  const chunks: Buffer[] = [];
  const transport = new thrift.TBufferedTransport(undefined, (buf) => buf && chunks.push(buf));
  write(new thrift.TBinaryProtocol(transport));
  transport.flush();
  return Buffer.concat(chunks);
}

/** Writes a generated struct (whose declarations leave its `write` out). */
const writeStruct = (struct: object, out: thrift.TProtocol) => (struct as { write(out: thrift.TProtocol): void }).write(out);

/** A frame header for `size` bytes. */
export const frameHeader = (size: number) => Buffer.from([size >>> 24, (size >>> 16) & 0xff, (size >>> 8) & 0xff, size & 0xff]);

/** The reply message up to its result's `success` struct, and after it. */
const replyHead = (method: string, seqid: number) =>
  binary((out) => {
    out.writeMessageBegin(method, thrift.Thrift.MessageType.REPLY, seqid);
    out.writeStructBegin('result');
    out.writeFieldBegin('success', thrift.Thrift.Type.STRUCT, 0);
  });
const replyTail = binary((out) => {
  out.writeFieldEnd();
  out.writeFieldStop();
  out.writeStructEnd();
  out.writeMessageEnd();
});

/** A framed EXCEPTION reply to `method` #`seqid` whose TApplicationException struct is empty: no message, no type. */
export function emptyExceptionFrame(method: string, seqid: number): Buffer {
  const message = binary((out) => {
    out.writeMessageBegin(method, thrift.Thrift.MessageType.EXCEPTION, seqid);
    out.writeStructBegin('TApplicationException');
    out.writeFieldStop();
    out.writeStructEnd();
    out.writeMessageEnd();
  });
  return Buffer.concat([frameHeader(message.length), message]);
}

/**
 * A whole framed binary reply, as a generated server writes it, naming any `method` (the test
 * decides: a wrong one, a huge one) with `response` as its result.
 */
export function replyFrame(method: string, seqid: number, response: object): Buffer {
  const message = Buffer.concat([replyHead(method, seqid), binary((out) => writeStruct(response, out)), replyTail]);
  return Buffer.concat([frameHeader(message.length), message]);
}

/**
 * Answers a keypoint call with one face of `count` landmarks: a real framed binary reply,
 * written a few thousand points at a time as a backend serialising a huge list would, so the
 * test never holds it whole; given up when the gateway hangs up.
 */
export async function floodOfLandmarks(socket: net.Socket, frame: Buffer, count: number): Promise<void> {
  const face = binary((out) => {
    out.writeStructBegin('DetectResponse');
    out.writeFieldBegin('faces', thrift.Thrift.Type.LIST, 1);
    out.writeListBegin(thrift.Thrift.Type.STRUCT, 1);
    out.writeStructBegin('Face');
    out.writeFieldBegin('rect', thrift.Thrift.Type.STRUCT, 1);
    writeStruct(new keypoint.Rect({ left: 1, top: 1, width: 10, height: 10 }), out);
    out.writeFieldEnd();
    out.writeFieldBegin('landmarks', thrift.Thrift.Type.LIST, 2);
    out.writeListBegin(thrift.Thrift.Type.STRUCT, count);
  });
  const point = binary((out) => writeStruct(new keypoint.Point({ x: 5, y: 5 }), out));
  const rest = binary((out) => {
    out.writeListEnd();
    out.writeFieldEnd();
    out.writeFieldBegin('score', thrift.Thrift.Type.DOUBLE, 3);
    out.writeDouble(0.9);
    out.writeFieldEnd();
    out.writeFieldStop();
    out.writeStructEnd();
    out.writeListEnd();
    out.writeFieldEnd();
    out.writeFieldBegin('BaseResp', thrift.Thrift.Type.STRUCT, 255);
    writeStruct(new base.BaseResp({ StatusCode: 0 }), out);
    out.writeFieldEnd();
    out.writeFieldStop();
    out.writeStructEnd();
  });
  const { method, seqid } = callOf(frame);
  const head = replyHead(method, seqid);
  const size = head.length + face.length + count * point.length + rest.length + replyTail.length;
  const pointsPerWrite = Math.floor(65536 / point.length);
  const block = Buffer.concat(Array.from({ length: pointsPerWrite }, () => point));
  const write = async (bytes: Buffer) => {
    if (!socket.write(bytes)) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
  };
  await write(Buffer.concat([frameHeader(size), head, face]));
  for (let left = count; left > 0 && !socket.destroyed; left -= pointsPerWrite) {
    await write(left >= pointsPerWrite ? block : block.subarray(0, left * point.length));
  }
  if (!socket.destroyed) await write(Buffer.concat([rest, replyTail]));
}

/** A loopback port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
