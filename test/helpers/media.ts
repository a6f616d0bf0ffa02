/** Readers for what the image3d route returns, written from the formats' specs. */

/** The top-level boxes of an ISO BMFF (MP4) file, and the movie duration from `moov/mvhd`. */
export function mp4Info(bytes: Buffer): { brand: string; boxes: string[]; durationSeconds: number } {
  const boxes: string[] = [];
  let brand = '';
  let durationSeconds = NaN;
  const walk = (start: number, end: number) => {
    for (let at = start; at + 8 <= end; ) {
      let size = bytes.readUInt32BE(at);
      const type = bytes.toString('latin1', at + 4, at + 8);
      let header = 8;
      if (size === 1) {
        size = Number(bytes.readBigUInt64BE(at + 8));
        header = 16;
      } else if (size === 0) size = end - at;
      if (size < header || at + size > end) throw new Error(`bad box ${type} at ${at}`);
      if (start === 0) boxes.push(type);
      if (type === 'ftyp') brand = bytes.toString('latin1', at + header, at + header + 4);
      if (type === 'moov') walk(at + header, at + size);
      if (type === 'mvhd') {
        const body = at + header;
        const version = bytes[body]!;
        const timescale = version === 1 ? bytes.readUInt32BE(body + 20) : bytes.readUInt32BE(body + 12);
        const duration = version === 1 ? Number(bytes.readBigUInt64BE(body + 24)) : bytes.readUInt32BE(body + 16);
        durationSeconds = duration / timescale;
      }
      at += size;
    }
  };
  walk(0, bytes.length);
  return { brand, boxes, durationSeconds };
}

/** Frame count and total delay of a GIF, walking its blocks (GIF89a spec). */
export function gifInfo(bytes: Buffer): { width: number; height: number; frames: number; totalDelayMs: number } {
  if (!/^GIF8[79]a$/.test(bytes.toString('latin1', 0, 6))) throw new Error('not a GIF');
  const width = bytes.readUInt16LE(6);
  const height = bytes.readUInt16LE(8);
  let at = 13;
  if (bytes[10]! & 0x80) at += 3 * 2 ** ((bytes[10]! & 7) + 1);
  let frames = 0;
  let totalDelayMs = 0;
  const skipSubBlocks = () => {
    while (bytes[at] !== 0) at += bytes[at]! + 1;
    at++;
  };
  for (;;) {
    const block = bytes[at++];
    if (block === 0x3b) break;
    if (block === 0x21) {
      const label = bytes[at++];
      if (label === 0xf9) totalDelayMs += bytes.readUInt16LE(at + 2) * 10;
      skipSubBlocks();
    } else if (block === 0x2c) {
      frames++;
      const flags = bytes[at + 8]!;
      at += 9;
      if (flags & 0x80) at += 3 * 2 ** ((flags & 7) + 1);
      at++; // LZW minimum code size
      skipSubBlocks();
    } else {
      throw new Error(`bad GIF block 0x${block?.toString(16)} at ${at - 1}`);
    }
  }
  return { width, height, frames, totalDelayMs };
}

/** A PNG's IHDR. */
export function pngInfo(bytes: Buffer): { width: number; height: number; bitDepth: number; colourType: number } {
  if (bytes.toString('hex', 0, 8) !== '89504e470d0a1a0a' || bytes.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20), bitDepth: bytes[24]!, colourType: bytes[25]! };
}
