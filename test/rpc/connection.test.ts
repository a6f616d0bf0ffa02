import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { test } from 'node:test';
import thrift from 'thrift';
import base from '../../gen/thrift/base_types.js';
import keypoint from '../../gen/thrift/keypoint_types.js';
import { createWriteTransport, PROTOCOLS } from '../../src/rpc/transport.js';
import { ctx, rpcClient } from '../helpers/rpc.js';

/** A framed binary Detect reply for `seqid`, as a backend would write it. */
function detectReply(seqid: number): Buffer {
  const chunks: Buffer[] = [];
  const out = createWriteTransport('framed', (c) => chunks.push(...c));
  const proto = new PROTOCOLS.binary(out);
  proto.writeMessageBegin('Detect', thrift.Thrift.MessageType.REPLY, seqid);
  proto.writeStructBegin('result');
  proto.writeFieldBegin('success', thrift.Thrift.Type.STRUCT, 0);
  // Generated structs write themselves; the types do not say so.
  (new keypoint.DetectResponse({ faces: [], BaseResp: new base.BaseResp({ StatusCode: 0 }) }) as unknown as { write(p: unknown): void }).write(proto);
  proto.writeFieldEnd();
  proto.writeFieldStop();
  proto.writeStructEnd();
  proto.writeMessageEnd();
  out.flush();
  return Buffer.concat(chunks);
}

test('a backend that answers before reading the whole request: the call succeeds, and its connection is not reused', async (t) => {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.once('data', (head: Buffer) => {
      // Frame length, version, name length, name, then the seqid.
      const seqid = head.readInt32BE(12 + head.readInt32BE(8));
      socket.pause(); // and never read the rest
      socket.write(detectReply(seqid));
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const rpc = rpcClient({ KEYPOINT_BACKENDS: address, IMAGE3D_BACKENDS: address, ARSCAN_BACKENDS: address });
  t.after(() => rpc.close());

  // Far more than the kernel's socket buffers hold, so most of it is still queued when the reply comes.
  const big = Buffer.alloc(64 * 1024 * 1024, 1);
  const first = await rpc.call('keypoint', 'Detect', new keypoint.DetectRequest({ image: big, max_faces: 1 }), ctx());
  assert.equal(first.BaseResp.StatusCode, 0);
  // The rest of the first request must not go ahead of the next call on the same socket.
  const second = await rpc.call('keypoint', 'Detect', new keypoint.DetectRequest({ image: Buffer.from('small'), max_faces: 1 }), ctx());
  assert.equal(second.BaseResp.StatusCode, 0);
  assert.equal(sockets.length, 2);
});
