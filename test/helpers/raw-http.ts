import net from 'node:net';

export interface RawAnswer {
  status: number;
  head: string;
  body: string;
}

/** One whole answer in `bytes` (a head and its Content-Length of body), or undefined while it is not. */
function parseAnswer(bytes: Buffer): RawAnswer | undefined {
  const at = bytes.indexOf('\r\n\r\n');
  if (at < 0) return undefined;
  const head = bytes.toString('latin1', 0, at);
  const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
  if (bytes.length < at + 4 + length) return undefined;
  return { status: Number(head.split(' ')[1]), head, body: bytes.toString('utf8', at + 4, at + 4 + length) };
}

/**
 * An HTTP request written by hand on a socket of its own, for what fetch cannot send: a body
 * that trickles, stops, never ends, or is written whole before anything is read.
 */
export class RawRequest {
  readonly socket: net.Socket;
  /** The gateway's answer; undefined when it closed the connection without one. */
  readonly answer: Promise<RawAnswer | undefined>;
  /** When the gateway closed the connection (performance.now()). */
  readonly closed: Promise<number>;
  answered: RawAnswer | undefined;

  constructor(port: number, head: string) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('error', () => {});
    this.socket.setNoDelay(true);
    this.socket.write(head);
    let received = Buffer.alloc(0);
    this.answer = new Promise((resolve) => {
      this.socket.on('data', (c: Buffer) => {
        received = Buffer.concat([received, c]);
        this.answered ??= parseAnswer(received);
        if (this.answered) resolve(this.answered);
      });
      this.socket.once('close', () => resolve(this.answered));
    });
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve(performance.now())));
  }

  /** Writes `bytes`, waiting while the socket is full; false once the connection is gone. */
  async write(bytes: Buffer | string): Promise<boolean> {
    if (this.socket.destroyed || this.socket.writableEnded) return false;
    if (!this.socket.write(bytes)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.socket.off('drain', done);
          this.socket.off('close', done);
          resolve();
        };
        this.socket.once('drain', done);
        this.socket.once('close', done);
      });
    }
    return !this.socket.destroyed;
  }

  /** Writes `total` bytes of `chunk`s (each framed by `frame`) until they are all written or an answer comes; the bytes written. */
  async stream(total: number, chunk: Buffer, frame: (chunk: Buffer) => Buffer[] = (c) => [c]): Promise<number> {
    let sent = 0;
    while (sent < total && !this.answered) {
      const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
      for (const part of frame(piece)) if (!(await this.write(part))) return sent;
      sent += piece.length;
    }
    return sent;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** `body` as fetch options that send it chunked (no Content-Length), in `pieces` chunks. */
export function chunkedBody(body: Buffer, pieces = 3): RequestInit {
  const size = Math.ceil(body.length / pieces);
  const chunks = Array.from({ length: pieces }, (_, i) => body.subarray(i * size, (i + 1) * size));
  const stream = new ReadableStream<Uint8Array>({ pull: (c) => void (chunks.length ? c.enqueue(chunks.shift()!) : c.close()) });
  return { body: stream, duplex: 'half' } as RequestInit;
}

/** A chunk in HTTP/1.1 chunked framing. */
export const chunked = (chunk: Buffer): Buffer[] => [Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')];

/** An HTTP client that writes headers and the whole body before it reads a byte, like urllib. */
export function sendAllThenRead(port: number, headers: string, bodyBytes: number): Promise<RawAnswer & { wroteAll: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let wroteAll = false;
    socket.on('error', (err) => reject(err));
    socket.on('connect', async () => {
      socket.pause(); // not reading
      socket.write(headers);
      const chunk = Buffer.alloc(256 * 1024, 0x41);
      for (let sent = 0; sent < bodyBytes; sent += chunk.length) {
        if (!socket.write(chunk.subarray(0, Math.min(chunk.length, bodyBytes - sent)))) {
          await new Promise((r) => socket.once('drain', r));
        }
      }
      wroteAll = true;
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        const answer = parseAnswer(Buffer.concat(chunks));
        if (answer) {
          socket.destroy();
          resolve({ ...answer, wroteAll });
        }
      });
      socket.resume();
    });
  });
}
