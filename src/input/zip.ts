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
  /** Largest ratio of all entries' uncompressed bytes to the whole archive's size. */
  maxTotalRatio: number;
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
 * Control and format characters (C0, C1, bidi overrides such as U+202E, zero-width ones,
 * U+FEFF), line and paragraph separators: invisible or misleading in a name shown to people.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * A safe base name for an entry: never used as a path. Drive letters, directories (either
 * slash) and invisible characters go; what is left is at most 128 characters.
 */
export function safeBaseName(entryName: string): string {
  const base = entryName.split(/[\\/]/).pop() ?? '';
  const clean = base
    .replace(INVISIBLE, '')
    .replace(/^[a-zA-Z]:/, '')
    .replace(/^\.+/, '');
  // By code points, so a character outside the BMP is not cut in half.
  return [...clean].slice(-128).join('') || 'file';
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

/** An entry and where its bytes lie in the archive, from its local header. */
interface Located {
  entry: yauzl.Entry;
  name: string;
  dataStart: number;
}

/**
 * Reads the files of a zip held in memory. Everything the central directory says is checked
 * before a byte is inflated: entries whose bytes overlap (the "better zip bomb", many entries
 * pointing at one deflated block), entry sizes, ratios, the total. The sizes are then checked
 * again while inflating (headers can lie), so a zip bomb stops at the limit with bounded
 * memory. `keep` decides, from an entry's bytes, whether it is kept or listed as skipped.
 */
export async function unzip(zip: Buffer, limits: ZipLimits, keep: (name: string, data: Buffer) => boolean): Promise<Unzipped> {
  let archive: yauzl.ZipFile;
  try {
    // Raw names: yauzl would refuse a whole archive over one "../" name; ours become base names.
    archive = await yauzl.fromBufferPromise(zip, { validateEntrySizes: true, decodeStrings: false });
  } catch (err) {
    throw new ApiError('INVALID_ARCHIVE', `The archive is not a valid zip file: ${(err as Error).message}.`, { cause: err });
  }
  if (archive.entryCount > limits.maxEntries) throw over(`${archive.entryCount} entries, more than ${limits.maxEntries}`);

  const files: ZipFile[] = [];
  const skipped: string[] = [];
  const taken = new Set<string>();
  try {
    const located: Located[] = [];
    for await (const entry of archive.eachEntry()) {
      const { fileDataStart } = await archive.readLocalFileHeaderPromise(entry, { minimal: true });
      located.push({ entry, name: entryName(entry), dataStart: fileDataStart });
    }
    refuseOverlaps(located);
    const wanted = located.filter(({ name }) => !(name.endsWith('/') || LITTER.test(name) || (name.split(/[\\/]/).pop() ?? '').startsWith('.')));
    checkDeclaredSizes(wanted, limits, zip.length);
    for (const { entry, name, dataStart } of wanted) {
      const data = await readEntry(zip, archive, entry, dataStart);
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

const over = (what: string) => new ApiError('ARCHIVE_LIMIT_EXCEEDED', `The archive exceeds a limit: ${what}.`);

/** Entries named in a refusal, at most: the answer stays small whatever the archive holds. */
const NAMED_AT_MOST = 5;

/**
 * Refuses an archive in which two entries share bytes: the same local header, or a local
 * header and data that run into another entry's. No zip writer makes one; a bomb does, so
 * that 1,000 entries inflate one block 1,000 times, each under the ratio limit.
 */
function refuseOverlaps(located: Located[]): void {
  const spans = located
    .map(({ entry, name, dataStart }) => ({ name, start: entry.relativeOffsetOfLocalHeader, end: dataStart + entry.compressedSize }))
    .sort((a, b) => a.start - b.start);
  const overlapping = new Set<(typeof spans)[number]>();
  let reach = spans[0];
  for (const span of spans.slice(1)) {
    if (span.start < reach!.end) overlapping.add(reach!).add(span);
    if (span.end > reach!.end) reach = span;
  }
  if (overlapping.size === 0) return;
  const names = [...overlapping].slice(0, NAMED_AT_MOST).map((s) => `"${safeBaseName(s.name)}"`);
  const more = overlapping.size - names.length;
  throw new ApiError(
    'INVALID_ARCHIVE',
    `The archive is not a valid zip file: entries ${names.join(', ')}${more > 0 ? ` and ${more} more` : ''} share their bytes with another entry.`,
  );
}

/** The limits, from what the central directory declares (inflating checks the truth of it). */
function checkDeclaredSizes(wanted: Located[], limits: ZipLimits, archiveBytes: number): void {
  let total = 0;
  for (const { entry, name } of wanted) {
    if (entry.isEncrypted()) throw new ApiError('ARCHIVE_UNSUPPORTED', `The archive entry "${safeBaseName(name)}" is encrypted; send it unencrypted.`);
    // A valid zip in a feature the gateway does not read (bzip2, LZMA, ...), not a corrupt one.
    if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
      throw new ApiError('ARCHIVE_UNSUPPORTED', `The archive entry "${safeBaseName(name)}" is compressed with method ${entry.compressionMethod}; only stored and deflate entries are read.`);
    }
    if (entry.uncompressedSize > limits.maxEntryBytes) throw over(`"${safeBaseName(name)}" is ${entry.uncompressedSize} bytes, more than ${limits.maxEntryBytes}`);
    // An entry of no compressed bytes counts as one byte: it cannot claim to expand without limit.
    const ratio = entry.uncompressedSize / Math.max(entry.compressedSize, 1);
    if (ratio > limits.maxRatio) throw over(`"${safeBaseName(name)}" expands ${Math.round(ratio)} times, more than ${limits.maxRatio}`);
    total += entry.uncompressedSize;
  }
  if (total > limits.maxTotalBytes) throw over(`more than ${limits.maxTotalBytes} bytes uncompressed`);
  // Entries at the ratio limit each, side by side, would still make a small upload hold a
  // hundred times its size: the whole archive has its own, lower ratio.
  if (total > limits.maxTotalRatio * archiveBytes) {
    throw over(`${total} bytes uncompressed, more than ${limits.maxTotalRatio} times the ${archiveBytes}-byte archive`);
  }
}

/** The entry's name: UTF-8 when its flag says so, otherwise (CP437 in the spec) read as Latin-1. */
function entryName(entry: yauzl.Entry): string {
  const raw = entry.fileName as unknown as Buffer;
  return raw.toString(entry.generalPurposeBitFlag & 0x800 ? 'utf8' : 'latin1');
}

/**
 * One entry's bytes. A stored entry is a view of the archive itself (yauzl has refused one
 * whose two sizes differ); a deflated one is inflated into one buffer of its declared size,
 * already checked against the limits, not into chunks and then a copy. Inflating past that
 * size is a header that lies: refused at once.
 */
async function readEntry(zip: Buffer, archive: yauzl.ZipFile, entry: yauzl.Entry, dataStart: number): Promise<Buffer> {
  if (entry.compressionMethod === 0) return zip.subarray(dataStart, dataStart + entry.compressedSize);
  const out = Buffer.allocUnsafe(entry.uncompressedSize);
  const stream = await archive.openReadStreamPromise(entry);
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (size + chunk.length > out.length) {
      stream.destroy();
      throw new ApiError('INVALID_ARCHIVE', `The archive is corrupt: "${safeBaseName(entryName(entry))}" inflates past the ${out.length} bytes its header declares.`);
    }
    size += chunk.copy(out, size);
  }
  return out.subarray(0, size);
}
