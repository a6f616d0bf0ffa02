// The part of gifenc (no types of its own) the reference image3d backend uses. Its CommonJS
// build exposes no named exports to ESM, so it is imported whole.
declare module 'gifenc' {
  type Palette = number[][];
  type Format = 'rgb565' | 'rgb444' | 'rgba4444';
  interface Encoder {
    writeFrame(index: Uint8Array, width: number, height: number, opts?: { palette?: Palette; delay?: number; repeat?: number }): void;
    finish(): void;
    bytes(): Uint8Array;
  }
  const gifenc: {
    quantize(rgba: Uint8Array, maxColors: number, options?: { format?: Format }): Palette;
    applyPalette(rgba: Uint8Array, palette: Palette, format?: Format): Uint8Array;
    GIFEncoder(opts?: { auto?: boolean; initialCapacity?: number }): Encoder;
  };
  export default gifenc;
}
