import thrift from 'thrift';
import type { ProtocolKind, TransportKind } from '../config/schema.js';
import { RpcError } from './rpc-error.js';

type Protocol = thrift.TProtocol;
type ProtocolCtor = new (transport: thrift.TTransport) => Protocol;

type NumberKind = 'byte' | 'i16' | 'i32' | 'double';

/** Each Thrift number: its size, and how it is written at an offset (wrapped to its width, as the package does). */
const NUMBERS: Record<NumberKind, { size: number; put(b: Buffer, v: number, at: number): number }> = {
  byte: { size: 1, put: (b, v, at) => b.writeInt8((v << 24) >> 24, at) },
  i16: { size: 2, put: (b, v, at) => b.writeInt16BE((v << 16) >> 16, at) },
  i32: { size: 4, put: (b, v, at) => b.writeInt32BE(v | 0, at) },
  double: { size: 8, put: (b, v, at) => b.writeDoubleBE(v, at) },
};

/**
 * Binary with strict reads (a message without a version header is a mismatch, not a name
 * length), and without the package's cost per field: it allocates a Buffer for every number
 * it writes (with the deprecated `new Buffer`, which Node slows down with a check each time)
 * and reads doubles bit by bit. Numbers go into the writer's scratch buffer when it has one,
 * and doubles are read with Buffer's own reader.
 */
class StrictBinaryProtocol extends thrift.TBinaryProtocol {
  constructor(transport: thrift.TTransport) {
    super(transport, true, true);
  }

  private get out(): thrift.TTransport {
    return (this as unknown as { trans: thrift.TTransport }).trans;
  }

  /** Into the writer's scratch buffer when it has one; else a Buffer of its own, as before. */
  private number(kind: NumberKind, v: number): void {
    const t = this.out;
    if (t instanceof ChunkWriter) return t.writeNumber(kind, v);
    const { size, put } = NUMBERS[kind];
    const b = Buffer.allocUnsafe(size);
    put(b, v, 0);
    t.write(b);
  }

  override writeByte(v: number): void {
    this.number('byte', v);
  }

  override writeI16(v: number): void {
    this.number('i16', v);
  }

  override writeI32(v: number): void {
    this.number('i32', v);
  }

  override writeDouble(v: number): void {
    this.number('double', v);
  }

  override writeString(v: string): void {
    this.writeI32(Buffer.byteLength(v, 'utf8'));
    this.out.write(Buffer.from(v, 'utf8'));
  }

  override readDouble(): number {
    if (!(this.out instanceof thrift.TFramedTransport)) return super.readDouble();
    const t = this.out as unknown as { inBuf: Buffer; readPos: number; ensureAvailable(n: number): void };
    t.ensureAvailable(8);
    const v = t.inBuf.readDoubleBE(t.readPos);
    t.readPos += 8;
    return v;
  }
}

/**
 * The most elements a list, set or map may announce. No message of the IDL holds more than a
 * few hundred (106 landmarks a face, the faces of a photo, 200 photos of a capture set); the
 * generated decoders build whatever count a peer announces, and a 1 MiB reply of a million
 * empty faces held the event loop for most of a second, a 112 MB one of 7 million map entries
 * for 16 s and 1 GB (found by a backend-fault probe).
 */
export const MAX_CONTAINER_ELEMENTS = 10_000;

type Container = { size: number };
// any[]: the constructor type TypeScript's mixins require.
function boundedContainers<B extends new (...args: any[]) => thrift.TProtocol>(Base: B): B {
  const check = <C extends Container>(what: string, begin: C): C => {
    if (begin.size > MAX_CONTAINER_ELEMENTS) {
      throw new RpcError('protocol', `a ${what} of ${begin.size} elements, more than any message of the IDL holds (${MAX_CONTAINER_ELEMENTS})`, true);
    }
    return begin;
  };
  return class extends Base {
    override readListBegin() {
      return check('list', super.readListBegin());
    }
    override readSetBegin() {
      return check('set', super.readSetBegin());
    }
    override readMapBegin() {
      return check('map', super.readMapBegin());
    }
  };
}

export const PROTOCOLS: Record<ProtocolKind, ProtocolCtor> = {
  binary: boundedContainers(StrictBinaryProtocol) as unknown as ProtocolCtor,
  compact: boundedContainers(thrift.TCompactProtocol) as unknown as ProtocolCtor,
};

const { InputBufferUnderrunError } = thrift as unknown as { InputBufferUnderrunError: new () => Error };

/** Below this, written bytes are copied into the scratch buffer; from it on, passed by reference. */
const BY_REFERENCE_BYTES = 2048;
const SCRATCH_BYTES = 16 * 1024;

/**
 * The write side of a transport: collects what a protocol writes and hands the pieces (after
 * a frame header, if framed) to `onFlush`. The package's transports concatenate a message
 * twice on flush; for a capture set of tens of MB that is two more copies of it. Here binary
 * fields reach the socket by reference, without any copy, and everything small (field
 * headers, numbers, names) is gathered in a scratch buffer, so that a message is a few pieces
 * for the socket's writev, not one per field.
 */
class ChunkWriter {
  private chunks: Buffer[] = [];
  private length = 0;
  // Pieces handed out are views of the scratch buffer; it is only ever written further on.
  private scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  private sealed = 0;
  private pos = 0;

  constructor(
    private readonly framed: boolean,
    private readonly onFlush: (chunks: Buffer[]) => void,
  ) {}

  private room(n: number): void {
    if (this.pos + n <= this.scratch.length) return;
    this.seal();
    this.scratch = Buffer.allocUnsafe(Math.max(SCRATCH_BYTES, n));
    this.sealed = this.pos = 0;
  }

  private seal(): void {
    if (this.pos === this.sealed) return;
    this.chunks.push(this.scratch.subarray(this.sealed, this.pos));
    this.sealed = this.pos;
  }

  writeNumber(kind: NumberKind, v: number): void {
    const { size, put } = NUMBERS[kind];
    this.room(size);
    this.pos = put(this.scratch, v, this.pos);
    this.length += size;
  }

  write(data: Buffer | string): void {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    if (chunk.length >= BY_REFERENCE_BYTES) {
      this.seal();
      this.chunks.push(chunk);
    } else {
      this.room(chunk.length);
      this.pos += chunk.copy(this.scratch, this.pos);
    }
    this.length += chunk.length;
  }

  flush(): void {
    this.seal();
    const chunks = this.chunks;
    if (this.framed) {
      this.room(4);
      const header = this.scratch.subarray(this.pos, this.pos + 4);
      header.writeInt32BE(this.length, 0);
      this.pos += 4;
      this.sealed = this.pos;
      chunks.unshift(header);
    }
    this.chunks = [];
    this.length = 0;
    this.onFlush(chunks);
  }

  setCurrSeqId(): void {}
}

export function createWriteTransport(kind: TransportKind, onFlush: (chunks: Buffer[]) => void): thrift.TTransport {
  return new ChunkWriter(kind === 'framed', onFlush) as unknown as thrift.TTransport;
}

/**
 * Cuts the byte stream from a backend into messages and hands each to `onMessage` as a protocol
 * positioned at its start. Never holds more than `maxBytes` of one message: a peer announcing
 * a bigger frame is refused at once, before anything is allocated for it.
 */
export interface MessageReader {
  push(chunk: Buffer): void;
  /** Bytes received and not yet part of a whole message. */
  readonly pendingBytes: number;
}

/** The largest message a reader accepts, and the setting that says so (named in the refusal). */
export interface MessageCap {
  bytes: number;
  setting: string;
}

export function createMessageReader(
  kind: TransportKind,
  protocol: ProtocolKind,
  cap: MessageCap,
  onMessage: (input: Protocol) => void,
): MessageReader {
  const Protocol = PROTOCOLS[protocol];
  return kind === 'framed'
    ? new FramedReader(cap, (frame) => onMessage(new Protocol(new thrift.TFramedTransport(frame))))
    : bufferedReader(cap, Protocol, onMessage);
}

class FramedReader implements MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(
    private readonly cap: MessageCap,
    private readonly onFrame: (frame: Buffer) => void,
  ) {}

  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      // A header split across chunks is joined once: joining on every chunk that followed copied
      // all that had arrived each time, quadratic in a frame that began with 1 to 3 bytes.
      if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
      const size = this.chunks[0]!.readInt32BE(0);
      if (size < 0 || size > this.cap.bytes) {
        throw new RpcError('protocol', `the backend announced a frame of ${size} bytes, beyond the ${this.cap.bytes}-byte cap (${this.cap.setting})`, true);
      }
      if (this.buffered < 4 + size) return;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      const rest = all.subarray(4 + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.onFrame(all.subarray(4, 4 + size));
    }
  }
}

function bufferedReader(cap: MessageCap, Protocol: ProtocolCtor, onMessage: (input: Protocol) => void): MessageReader {
  // Unframed messages have no length: parse what has arrived, and on underrun wait for more.
  type Reader = thrift.TTransport & { commitPosition(): void; rollbackPosition(): void; readCursor: number; writeCursor: number };
  let current: Reader | undefined;
  // @types/thrift predates receiver's maxLength argument.
  const receiver = thrift.TBufferedTransport.receiver as unknown as (
    cb: (reader: Reader) => void,
    seqid: undefined,
    maxLength: number,
  ) => (chunk: Buffer) => void;
  const receive = receiver(
    (reader: Reader) => {
      current = reader;
      for (;;) {
        try {
          onMessage(new Protocol(reader));
          reader.commitPosition();
        } catch (err) {
          if (err instanceof InputBufferUnderrunError) {
            reader.rollbackPosition();
            return;
          }
          throw err;
        }
      }
    },
    undefined,
    cap.bytes,
  );
  return {
    get pendingBytes() {
      return current ? current.writeCursor - current.readCursor : 0;
    },
    push(chunk) {
      try {
        receive(chunk);
      } catch (err) {
        if (err instanceof RpcError) throw err;
        if (err instanceof Error && /larger than the maximum/.test(err.message)) {
          throw new RpcError('protocol', `the backend sent a message beyond the ${cap.bytes}-byte cap (${cap.setting})`, true);
        }
        throw err;
      }
    },
  };
}

const isBinaryStart = (b: Buffer, at: number) => b.length >= at + 2 && b[at] === 0x80 && b[at + 1] === 0x01;
const isCompactStart = (b: Buffer, at: number) => b.length > at && b[at] === 0x82;

/**
 * From the first bytes of a reply, the transport and protocol the backend seems to speak, when
 * they differ from the configured ones: the likely cause of a reply that cannot be parsed.
 */
export function diagnoseMismatch(head: Buffer, transport: TransportKind, protocol: ProtocolKind): string | undefined {
  let seen: { transport: TransportKind; protocol: ProtocolKind } | undefined;
  if (head.length >= 4 && head.readInt32BE(0) >= 0 && (isBinaryStart(head, 4) || isCompactStart(head, 4))) {
    seen = { transport: 'framed', protocol: isBinaryStart(head, 4) ? 'binary' : 'compact' };
  } else if (isBinaryStart(head, 0) || isCompactStart(head, 0)) {
    seen = { transport: 'buffered', protocol: isBinaryStart(head, 0) ? 'binary' : 'compact' };
  }
  if (!seen || (seen.transport === transport && seen.protocol === protocol)) return undefined;
  return `the backend seems to speak ${seen.transport} transport with ${seen.protocol} protocol, but the gateway is set to ${transport}/${protocol}`;
}
