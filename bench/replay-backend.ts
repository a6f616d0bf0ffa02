// The benchmark's floor backend: a Thrift server (framed, strict binary) that costs next to
// nothing per call, so that `npm run bench` measures the gateway and not the backend behind it.
// The first call of each method is passed to `--upstream` (a reference backend, which computes
// a real answer) and its reply frame is kept; every later call is answered with that frame,
// its seqid patched in, without decoding the request beyond its method name and seqid.
// Written by hand because no Thrift library answers without decoding and encoding each message.
// argv: --port N (0: any), --upstream host:port. Prints "replay listening on 127.0.0.1:<port>".
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { port: { type: 'string', default: '0' }, upstream: { type: 'string' } } });
if (!args.upstream) throw new Error('--upstream host:port is required');
const [upstreamHost, upstreamPort] = [args.upstream.slice(0, args.upstream.lastIndexOf(':')), Number(args.upstream.slice(args.upstream.lastIndexOf(':') + 1))];

const STRICT_VERSION_MASK = 0xffff0000 | 0;
const VERSION_1 = 0x80010000 | 0;

/** One framed message's header: where its seqid sits in the frame (length prefix included). */
function header(frame: Buffer): { name: string; seqidAt: number } {
  if ((frame.readInt32BE(4) & STRICT_VERSION_MASK) !== VERSION_1) throw new Error('not a strict binary message');
  const nameLength = frame.readInt32BE(8);
  return { name: frame.toString('latin1', 12, 12 + nameLength), seqidAt: 12 + nameLength };
}

/** Sends one framed request upstream and resolves with its framed reply. */
function askUpstream(request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(upstreamPort, upstreamHost, () => socket.write(request));
    let got = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) {
        socket.destroy();
        resolve(got.subarray(0, 4 + got.readInt32BE(0)));
      }
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('upstream closed before replying')));
  });
}

/** Reply frames by method name, once known; the first calls' answers while they are asked for. */
const known = new Map<string, Buffer>();
const asking = new Map<string, Promise<Buffer>>();

function replyTo(request: Buffer): Buffer | Promise<Buffer> {
  const { name, seqidAt } = header(request);
  const seqid = request.readInt32BE(seqidAt);
  const patch = (frame: Buffer) => {
    const out = Buffer.from(frame);
    out.writeInt32BE(seqid, header(out).seqidAt);
    return out;
  };
  const frame = known.get(name);
  if (frame) return patch(frame);
  let first = asking.get(name);
  if (!first) {
    first = askUpstream(request).then((got) => (known.set(name, got), got));
    asking.set(name, first);
    // A failed first call is not kept: the next one asks again.
    first.catch(() => asking.delete(name));
  }
  return first.then(patch);
}

const server = net.createServer({ noDelay: true }, (socket) => {
  // Bytes received and not yet answered. A 21 MB capture set arrives in hundreds of chunks:
  // they are joined once its frame is whole, not at every chunk (which copied the frame over
  // and over, seconds of CPU per call, on the cores the gateway is measured on).
  let chunks: Buffer[] = [];
  let buffered = 0;
  // Replies go out in request order, as a Thrift client on one connection expects: straight
  // away once the frame is known, behind the first call while it is asked for.
  let waiting: Promise<unknown> | undefined;
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    buffered += chunk.length;
    if (buffered < 4) return;
    if (chunks[0]!.length < 4) chunks = [Buffer.concat(chunks, buffered)];
    if (buffered < 4 + chunks[0]!.readInt32BE(0)) return;
    let pending = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, buffered);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const request = pending.subarray(0, 4 + pending.readInt32BE(0));
      pending = pending.subarray(request.length);
      const answer = replyTo(request);
      if (!waiting && Buffer.isBuffer(answer)) {
        socket.write(answer);
        continue;
      }
      const turn: Promise<unknown> = (waiting ?? Promise.resolve())
        .then(() => answer)
        .then(
          (frame) => socket.write(frame),
          () => socket.destroy(),
        )
        .finally(() => {
          if (waiting === turn) waiting = undefined;
        });
      waiting = turn;
    }
    chunks = pending.length ? [pending] : [];
    buffered = pending.length;
  });
  socket.on('error', () => socket.destroy());
});
server.listen(Number(args.port), '127.0.0.1', () => {
  const { port } = server.address() as net.AddressInfo;
  console.log(`replay listening on 127.0.0.1:${port}`);
});
