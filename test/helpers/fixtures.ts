import { readFileSync } from 'node:fs';
import sharp from 'sharp';

export const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));

/** A real JPEG of the given size (the astronaut, resized). */
export const jpeg = (width: number, height: number): Promise<Buffer> =>
  sharp(fixture('astronaut.png')).resize(width, height, { fit: 'fill' }).jpeg({ quality: 80 }).toBuffer();

/** A real PNG of the given size, one flat colour. */
export const flatPng = (width: number, height: number): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: '#808080' } }).png().toBuffer();
