import thrift from 'thrift';
import type { ProtocolKind, TransportKind } from '../config.js';
import { RpcError } from './rpc-error.js';

type Protocol = thrift.TProtocol;
type ProtocolCtor = new (transport: thrift.TTransport) => Protocol;

/** Binary with strict reads: a message without a version header is a mismatch, not a name length. */
class StrictBinaryProtocol extends thrift.TBinaryProtocol {
  constructor(transport: thrift.TTransport) {
    super(transport, true, true);
  }
}

export const PROTOCOLS: Record<ProtocolKind, ProtocolCtor> = {
  binary: StrictBinaryProtocol as unknown as ProtocolCtor,
  compact: thrift.TCompactProtocol as unknown as ProtocolCtor,
};

const { InputBufferUnderrunError } = thrift as unknown as { InputBufferUnderrunError: new () => Error };

/**
 * The write side of a transport: collects what a protocol writes and hands the pieces (after
 * a frame header, if framed) to `onFlush` as they are. The package's transports concatenate a
 * message twice on flush; for a capture set of tens of MB that is two more copies of it, while
 * binary fields are written here by reference and reach the socket without any copy.
 */
class ChunkWriter {
  private chunks: Buffer[] = [];
  private length = 0;

  constructor(
    private readonly framed: boolean,
    private readonly onFlush: (chunks: Buffer[]) => void,
  ) {}

  write(data: Buffer | string): void {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  flush(): void {
    const chunks = this.chunks;
    if (this.framed) {
      const header = Buffer.allocUnsafe(4);
      header.writeInt32BE(this.length, 0);
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
}

export function createMessageReader(
  kind: TransportKind,
  protocol: ProtocolKind,
  maxBytes: number,
  onMessage: (input: Protocol) => void,
): MessageReader {
  const Protocol = PROTOCOLS[protocol];
  return kind === 'framed'
    ? new FramedReader(maxBytes, (frame) => onMessage(new Protocol(new thrift.TFramedTransport(frame))))
    : bufferedReader(maxBytes, Protocol, onMessage);
}

class FramedReader implements MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onFrame: (frame: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : Buffer.concat(this.chunks);
      const size = head.readInt32BE(0);
      if (size < 0 || size > this.maxBytes) {
        throw new RpcError(
          'protocol',
          `the backend announced a frame of ${size} bytes, beyond the ${this.maxBytes}-byte cap (RPC_MAX_FRAME_BYTES)`,
          true,
        );
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

function bufferedReader(maxBytes: number, Protocol: ProtocolCtor, onMessage: (input: Protocol) => void): MessageReader {
  // Unframed messages have no length: parse what has arrived, and on underrun wait for more.
  type Reader = thrift.TTransport & { commitPosition(): void; rollbackPosition(): void };
  // @types/thrift predates receiver's maxLength argument.
  const receiver = thrift.TBufferedTransport.receiver as unknown as (
    cb: (reader: Reader) => void,
    seqid: undefined,
    maxLength: number,
  ) => (chunk: Buffer) => void;
  const receive = receiver(
    (reader: Reader) => {
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
    maxBytes,
  );
  return {
    push(chunk) {
      try {
        receive(chunk);
      } catch (err) {
        if (err instanceof RpcError) throw err;
        if (err instanceof Error && /larger than the maximum/.test(err.message)) {
          throw new RpcError('protocol', `the backend sent a message beyond the ${maxBytes}-byte cap (RPC_MAX_FRAME_BYTES)`, true);
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
