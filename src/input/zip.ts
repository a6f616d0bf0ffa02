import yauzl from 'yauzl';
import { ApiError } from '../errors.js';

export interface ZipLimits {
  maxEntries: number;
  /** Largest uncompressed entry. */
  maxEntryBytes: number;
  /** Largest sum of uncompressed entries kept. */
  maxTotalBytes: number;
  /** Largest uncompressed/compressed ratio of an entry (a zip bomb's tell). */
  maxRatio: number;
}

export interface ZipFile {
  /** A safe base name, unique within the archive. */
  name: string;
  data: Buffer;
}

export interface Unzipped {
  files: ZipFile[];
  /** Names of entries left out as not being files of interest (directories and OS litter are not listed). */
  skipped: string[];
}

/** OS litter that is skipped without a word. */
const LITTER = /^(__MACOSX\/|.*\/__MACOSX\/)|(^|\/)(Thumbs\.db|desktop\.ini)$/i;

/**
 * A safe base name for an entry: never used as a path. Drive letters, directories (either
 * slash), NUL and control characters go; what is left is at most 128 characters.
 */
export function safeBaseName(entryName: string): string {
  const base = entryName.split(/[\\/]/).pop() ?? '';
  const clean = base
    .replace(/^[a-zA-Z]:/, '')
    .replace(/[\x00-\x1f\x7f]/g, '')
    .replace(/^\.+/, '')
    .slice(-128);
  return clean || 'file';
}

/** `name`, or `stem-2.ext`, `stem-3.ext` … : the first not yet taken (case-insensitively), now taken. */
export function uniqueName(name: string, taken: Set<string>): string {
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  let candidate = name;
  for (let i = 2; taken.has(candidate.toLowerCase()); i++) candidate = `${stem}-${i}${ext}`;
  taken.add(candidate.toLowerCase());
  return candidate;
}

/**
 * Reads the files of a zip held in memory, checking every limit twice: from the headers
 * first (cheap, and enough for an honest archive), then again while inflating (headers can
 * lie), so a zip bomb stops at the limit with bounded memory. `keep` decides, from an entry's
 * bytes, whether it is kept or listed as skipped.
 */
export async function unzip(zip: Buffer, limits: ZipLimits, keep: (name: string, data: Buffer) => boolean): Promise<Unzipped> {
  let archive: yauzl.ZipFile;
  try {
    // Raw names: yauzl would refuse a whole archive over one "../" name; ours become base names.
    archive = await yauzl.fromBufferPromise(zip, { validateEntrySizes: true, decodeStrings: false });
  } catch (err) {
    throw new ApiError('INVALID_ARCHIVE', `The archive is not a valid zip file: ${(err as Error).message}.`, { cause: err });
  }
  const over = (what: string) => new ApiError('ARCHIVE_LIMIT_EXCEEDED', `The archive exceeds a limit: ${what}.`);
  if (archive.entryCount > limits.maxEntries) throw over(`${archive.entryCount} entries, more than ${limits.maxEntries}`);

  const files: ZipFile[] = [];
  const skipped: string[] = [];
  const taken = new Set<string>();
  let total = 0;
  try {
    for await (const entry of archive.eachEntry()) {
      const name = entryName(entry);
      const isDotfile = (name.split(/[\\/]/).pop() ?? '').startsWith('.');
      if (name.endsWith('/') || LITTER.test(name) || isDotfile) continue;
      if (entry.isEncrypted()) throw new ApiError('ARCHIVE_UNSUPPORTED', `The archive entry "${safeBaseName(name)}" is encrypted; send it unencrypted.`);
      if (entry.uncompressedSize > limits.maxEntryBytes) throw over(`"${safeBaseName(name)}" is ${entry.uncompressedSize} bytes, more than ${limits.maxEntryBytes}`);
      if (total + entry.uncompressedSize > limits.maxTotalBytes) throw over(`more than ${limits.maxTotalBytes} bytes uncompressed`);
      if (entry.compressedSize > 0 && entry.uncompressedSize / entry.compressedSize > limits.maxRatio) {
        throw over(`"${safeBaseName(name)}" expands ${Math.round(entry.uncompressedSize / entry.compressedSize)} times, more than ${limits.maxRatio}`);
      }
      const data = await readEntry(zip, archive, entry, Math.min(limits.maxEntryBytes, limits.maxTotalBytes - total), over);
      total += data.length;
      const safe = uniqueName(safeBaseName(name), taken);
      if (keep(safe, data)) files.push({ name: safe, data });
      else skipped.push(safe);
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError('INVALID_ARCHIVE', `The archive is corrupt: ${(err as Error).message}.`, { cause: err });
  } finally {
    archive.close();
  }
  return { files, skipped };
}

/** The entry's name: UTF-8 when its flag says so, otherwise (CP437 in the spec) read as Latin-1. */
function entryName(entry: yauzl.Entry): string {
  const raw = entry.fileName as unknown as Buffer;
  return raw.toString(entry.generalPurposeBitFlag & 0x800 ? 'utf8' : 'latin1');
}

/**
 * One entry's bytes, stopping the moment they pass `max`, whatever its header said. A stored
 * entry is a view of the archive itself; a deflated one is inflated.
 */
async function readEntry(zip: Buffer, archive: yauzl.ZipFile, entry: yauzl.Entry, max: number, over: (what: string) => ApiError): Promise<Buffer> {
  const tooBig = () => over(`"${safeBaseName(entryName(entry))}" inflates past ${max} bytes`);
  // yauzl has already refused a stored entry whose two sizes differ.
  if (entry.compressionMethod === 0) {
    if (entry.compressedSize > max) throw tooBig();
    const header = await new Promise<{ fileDataStart: number }>((resolve, reject) =>
      (archive as unknown as LocalHeaderReader).readLocalFileHeader(entry, { minimal: true }, (err, h) => (err ? reject(err) : resolve(h))),
    );
    return zip.subarray(header.fileDataStart, header.fileDataStart + entry.compressedSize);
  }
  const stream = await archive.openReadStreamPromise(entry);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      stream.destroy();
      throw tooBig();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** yauzl 3's reader of local headers, which its types do not declare. */
interface LocalHeaderReader {
  readLocalFileHeader(entry: yauzl.Entry, options: { minimal: true }, callback: (err: Error | null, header: { fileDataStart: number }) => void): void;
}
