import { ApiError } from '../errors.js';

export type ImageFormat = 'jpeg' | 'png';

export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
}

export interface SizeRange {
  min: number;
  max: number;
}

const startsWith = (b: Buffer, sig: number[], at = 0) => b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);
const ascii = (b: Buffer, start: number, end: number) => b.toString('latin1', start, end);

/** Names the formats partners send most often by mistake, so the 415 can say what was sent. */
function unsupportedFormat(b: Buffer): string | undefined {
  if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') return 'GIF';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return 'WebP';
  if (startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])) return 'TIFF';
  if (ascii(b, 0, 2) === 'BM' && b.length >= 26) return 'BMP';
  if (startsWith(b, [0x00, 0x00, 0x01, 0x00])) return 'ICO';
  if (startsWith(b, [0xff, 0x4f, 0xff, 0x51]) || startsWith(b, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20])) return 'JPEG 2000';
  if (startsWith(b, [0xff, 0x0a]) || ascii(b, 4, 12) === 'JXL \r\n\x87\n') return 'JPEG XL';
  if (ascii(b, 0, 4) === '%PDF') return 'PDF';
  if (ascii(b, 4, 8) === 'ftyp') {
    const brand = ascii(b, 8, 12);
    if (['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis'].includes(brand)) return 'HEIC';
    if (['mif1', 'msf1'].includes(brand)) return 'HEIF';
    if (['avif', 'avis'].includes(brand)) return 'AVIF';
    return `ISO media (${JSON.stringify(brand.replace(/[^\x20-\x7e]/g, '?'))})`;
  }
  return undefined;
}

function pngSize(b: Buffer): { width: number; height: number } | undefined {
  // Signature, then the IHDR chunk: length 13, type, width, height.
  if (b.length < 24 || ascii(b, 12, 16) !== 'IHDR') return undefined;
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/** Walks the JPEG markers to the first start-of-frame; bounded by the buffer, never decodes pixels. */
function jpegSize(b: Buffer): { width: number; height: number } | undefined {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image or scan before any frame
    const length = b.readUInt16BE(i + 2);
    if (length < 2) return undefined;
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (i + 9 > b.length) return undefined;
      return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    }
    i += 2 + length;
  }
  return undefined;
}

const formatOf = (bytes: Buffer): ImageFormat | undefined =>
  startsWith(bytes, [0xff, 0xd8, 0xff]) ? 'jpeg' : startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) ? 'png' : undefined;
const SIZE_OF: Record<ImageFormat, (bytes: Buffer) => { width: number; height: number } | undefined> = { jpeg: jpegSize, png: pngSize };

/** The dimensions a JPEG or PNG's header declares (before any EXIF rotation); undefined for anything else. */
export function headerSize(bytes: Buffer): { width: number; height: number } | undefined {
  const format = formatOf(bytes);
  return format && SIZE_OF[format](bytes);
}

/**
 * What the bytes are, by their magic numbers (never the client's word), and their dimensions
 * from the header alone. Refuses what a backend could not use: 415 for other formats, 400 for
 * a truncated or corrupt header, 422 for dimensions outside `range`.
 */
export function inspectImage(bytes: Buffer, field: string, range: SizeRange): ImageInfo {
  if (bytes.length === 0) throw new ApiError('MISSING_IMAGE', `"${field}" is empty.`);
  const format = formatOf(bytes);
  if (!format) {
    const named = unsupportedFormat(bytes);
    throw new ApiError(
      'UNSUPPORTED_IMAGE_FORMAT',
      named
        ? `"${field}" is a ${named} image; only JPEG and PNG are accepted.`
        : `"${field}" is not a JPEG or PNG image (its first bytes match no known image format).`,
    );
  }
  const size = SIZE_OF[format](bytes);
  if (!size || size.width === 0 || size.height === 0) {
    throw new ApiError('INVALID_IMAGE', `"${field}" looks like a ${format.toUpperCase()} but its header is truncated or corrupt.`);
  }
  const { width, height } = size;
  if (width < range.min || height < range.min || width > range.max || height > range.max) {
    throw new ApiError(
      'IMAGE_DIMENSIONS_UNSUPPORTED',
      `"${field}" is ${width}×${height} pixels; each side must be ${range.min} to ${range.max} pixels.`,
    );
  }
  return { format, width, height };
}
