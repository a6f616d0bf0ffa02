// The benchmark's floor backend: a Thrift server (framed, strict binary) that costs next to
// nothing per call, so that `npm run bench` measures the gateway and not the backend behind it.
// The first call of each method is passed to `--upstream` (a reference backend, which computes
// a real answer) and its reply frame is kept; every later call is answered with that frame,
// its seqid patched in, without decoding the request beyond its method name and seqid.
// Written by hand because no Thrift library answers without decoding and encoding each message.
// argv: --port N (0: any); --upstream host:port; --frames DIR: each method's reply frame as
// DIR/<method>.frame, those there answered with no upstream and those learned from it written
// there, so that a machine without the reference backends' models can replay them; --processes N:
// node:cluster workers sharing the port (one answers about 15,000 keypoint calls a second, at
// 0.066 ms of CPU each for a 120 KB JPEG: fewer than several gateway workers send).
// Prints "replay listening on 127.0.0.1:<port>" once every process listens.
import cluster from 'node:cluster';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: { port: { type: 'string', default: '0' }, upstream: { type: 'string' }, frames: { type: 'string' }, processes: { type: 'string', default: '1' } },
});
if (!args.upstream && !args.frames) throw new Error('--upstream host:port or --frames DIR is required');
const upstream = args.upstream;
const frames = args.frames;

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
    if (!upstream) return reject(new Error(`no frame for ${header(request).name} in ${frames} and no --upstream`));
    const at = upstream.lastIndexOf(':');
    const socket = net.connect(Number(upstream.slice(at + 1)), upstream.slice(0, at), () => socket.write(request));
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
if (frames && existsSync(frames)) {
  for (const file of readdirSync(frames).filter((f) => f.endsWith('.frame'))) known.set(file.slice(0, -'.frame'.length), readFileSync(join(frames, file)));
}
/** Keeps a frame learned from upstream in --frames (whole or not at all: several processes may write it). */
function record(name: string, frame: Buffer): void {
  if (!frames) return;
  mkdirSync(frames, { recursive: true });
  const temporary = join(frames, `.${name}.${process.pid}`);
  writeFileSync(temporary, frame);
  renameSync(temporary, join(frames, `${name}.frame`));
}

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
    first = askUpstream(request).then((got) => (known.set(name, got), record(name, got), got));
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
const processes = Number(args.processes);
if (cluster.isPrimary && processes > 1) {
  let listening = 0;
  cluster.on('listening', (_worker, address) => {
    if (++listening === processes) console.log(`replay listening on 127.0.0.1:${address.port}`);
  });
  // A process gone leaves the bench with a backend that fails some calls: all go, and the bench sees the exit.
  cluster.on('exit', () => process.exit(1));
  // Port 0 in every worker is one port: cluster's primary holds the listening socket.
  for (let i = 0; i < processes; i++) cluster.fork();
} else {
  server.listen(Number(args.port), '127.0.0.1', () => {
    if (cluster.isWorker) return;
    const { port } = server.address() as net.AddressInfo;
    console.log(`replay listening on 127.0.0.1:${port}`);
  });
}
