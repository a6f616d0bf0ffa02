// Real zips for tests, and the byte-level edits that make them hostile.
export { writeZip as makeZip } from '../../src/backends/arscan/write-zip.js';

/** Offsets of every local header (PK\3\4) and central directory header (PK\1\2). */
function headers(zip: Buffer, signature: number): number[] {
  const out: number[] = [];
  for (let i = zip.indexOf(Buffer.from([0x50, 0x4b])); i >= 0; i = zip.indexOf(Buffer.from([0x50, 0x4b]), i + 1)) {
    if (zip.readUInt32LE(i) === signature) out.push(i);
  }
  return out;
}

/** The zip with every entry's "encrypted" flag set, in local and central headers. */
export function markEncrypted(zip: Buffer): Buffer {
  const out = Buffer.from(zip);
  for (const at of headers(out, 0x04034b50)) out.writeUInt16LE(out.readUInt16LE(at + 6) | 1, at + 6);
  for (const at of headers(out, 0x02014b50)) out.writeUInt16LE(out.readUInt16LE(at + 8) | 1, at + 8);
  return out;
}

/** The zip with every entry's declared uncompressed size replaced: a header that lies. */
export function lieAboutSize(zip: Buffer, size: number): Buffer {
  const out = Buffer.from(zip);
  for (const at of headers(out, 0x04034b50)) out.writeUInt32LE(size, at + 22);
  for (const at of headers(out, 0x02014b50)) out.writeUInt32LE(size, at + 24);
  return out;
}

/** The zip with an entry name rewritten byte for byte (same length), for names yazl refuses to write. */
export function renameEntry(zip: Buffer, from: string, to: string): Buffer {
  if (Buffer.byteLength(from) !== Buffer.byteLength(to)) throw new Error('names must have the same length');
  const out = Buffer.from(zip);
  for (let at = out.indexOf(from); at >= 0; at = out.indexOf(from, at + 1)) out.write(to, at);
  return out;
}
