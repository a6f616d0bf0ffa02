// Real zips for tests, and the byte-level edits that make them hostile.
import { randomBytes } from 'node:crypto';
import { crc32, deflateRawSync } from 'node:zlib';
export { writeZip as makeZip } from '../../src/shared/write-zip.js';

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

export interface CraftedEntry {
  name: string;
  data: Buffer;
  /** Deflated (fast, level 1) rather than stored. */
  deflate?: boolean;
  /** Another compression method to declare (12: bzip2, 14: LZMA); the data is written as given. */
  method?: number;
}

export interface CentralRecord {
  name: string;
  /** The entry (index in `entries`) whose local header the record points at. */
  local: number;
  /** Bytes added to the record's compressed size, so that the entry runs into the next one. */
  extend?: number;
}

/**
 * A zip written byte by byte, for layouts no zip writer makes: `entries` one after another,
 * then a central record for each of `central` (by default one per entry), any number of them
 * pointing at the same local header. Names are flagged UTF-8.
 */
export function craftZip(entries: CraftedEntry[], central?: CentralRecord[]): Buffer {
  const locals: Array<{ offset: number; method: number; crc: number; size: number; stored: Buffer }> = [];
  const out: Buffer[] = [];
  let offset = 0;
  for (const { name, data, deflate, method } of entries) {
    const stored = deflate ? deflateRawSync(data, { level: 1 }) : data;
    const local = { offset, method: method ?? (deflate ? 8 : 0), crc: crc32(data), size: data.length, stored };
    const nameBytes = Buffer.from(name);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4);
    head.writeUInt16LE(0x800, 6);
    head.writeUInt16LE(local.method, 8);
    head.writeUInt16LE(0x21, 12); // 1980-01-01
    head.writeUInt32LE(local.crc, 14);
    head.writeUInt32LE(stored.length, 18);
    head.writeUInt32LE(data.length, 22);
    head.writeUInt16LE(nameBytes.length, 26);
    out.push(head, nameBytes, stored);
    offset += head.length + nameBytes.length + stored.length;
    locals.push(local);
  }
  const centralStart = offset;
  const records: CentralRecord[] = central ?? entries.map(({ name }, local) => ({ name, local }));
  for (const { name, local: i, extend = 0 } of records) {
    const local = locals[i]!;
    const nameBytes = Buffer.from(name);
    const record = Buffer.alloc(46);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(20, 4);
    record.writeUInt16LE(20, 6);
    record.writeUInt16LE(0x800, 8);
    record.writeUInt16LE(local.method, 10);
    record.writeUInt16LE(0x21, 14);
    record.writeUInt32LE(local.crc, 16);
    record.writeUInt32LE(local.stored.length + extend, 20);
    // A stored entry's two sizes must agree.
    record.writeUInt32LE(local.size + (local.method === 0 ? extend : 0), 24);
    record.writeUInt16LE(nameBytes.length, 28);
    record.writeUInt32LE(local.offset, 42);
    out.push(record, nameBytes);
    offset += record.length + nameBytes.length;
  }
  const end = Buffer.alloc(22);
  const count = records.length;
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(offset - centralStart, 12);
  end.writeUInt32LE(centralStart, 16);
  out.push(end);
  return Buffer.concat(out);
}

/**
 * `size` bytes that deflate (level 1) about 85 times: zeros with a random byte every 600,
 * under the gateway's default ratio limit of 100, and quick to make.
 */
export function compressible(size: number): Buffer {
  const out = Buffer.alloc(size);
  const noise = randomBytes(Math.ceil(size / 600));
  for (let i = 0, j = 0; i < size; i += 600, j++) out[i] = noise[j]!;
  return out;
}
