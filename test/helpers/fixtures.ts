import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

export const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));

/** A real JPEG of the given size (the astronaut, resized). */
export const jpeg = (width: number, height: number): Promise<Buffer> =>
  sharp(fixture('astronaut.png')).resize(width, height, { fit: 'fill' }).jpeg({ quality: 80 }).toBuffer();

/** A real PNG of the given size, one flat colour. */
export const flatPng = (width: number, height: number): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: '#808080' } }).png().toBuffer();

/** A capture set of three real photos: the motorcycle from the left, its mirror image, and from the right. */
export async function capturePhotos(): Promise<Array<[name: string, data: Buffer]>> {
  const left = fixture('motorcycle_left.png');
  return [
    ['left.png', left],
    ['middle.png', await sharp(left).flop().png().toBuffer()],
    ['right.png', fixture('motorcycle_right.png')],
  ];
}

const faceApiDemo = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');

/**
 * One of the six group photos (1920 px wide) @vladmandic/face-api ships in its demo/ folder
 * (MIT, like the package): read from the installed devDependency, not copied into this repo.
 * People in each, counted by eye: 1: 3, 2: 3, 3: 3, 4: 4, 5: 5, 6: 4.
 */
export const groupPhoto = (n: 1 | 2 | 3 | 4 | 5 | 6): Buffer => readFileSync(join(faceApiDemo, `sample${n}.jpg`));
