/**
 * A depth map from one photo, without a model: how near each pixel is (0 far, 255 near), as
 *   0.55 · ground-plane prior (the lower in the frame, the nearer)
 * + 0.30 · blurred luminance (lit foreground subjects tend to be brighter than the background)
 * + 0.15 · blurred edge strength (the in-focus subject has the most detail),
 * each scaled to 0..1, the sum stretched to 0..255. Crude, documented, and real: it comes from
 * the pixels, so every photo gets its own map.
 */
export function estimateNearness(grey: Uint8Array, width: number, height: number): Uint8Array {
  const radius = Math.max(1, Math.round(Math.max(width, height) / 40));
  const lum = normalise(boxBlur(Float32Array.from(grey), width, height, radius));
  const edges = normalise(boxBlur(sobel(grey, width, height), width, height, radius * 2));
  const near = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const ground = height > 1 ? y / (height - 1) : 0;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      near[i] = 0.55 * ground + 0.3 * lum[i]! + 0.15 * edges[i]!;
    }
  }
  const scaled = normalise(near);
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(scaled[i]! * 255);
  return out;
}

function normalise(values: Float32Array): Float32Array {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min || 1;
  return values.map((v) => (v - min) / span);
}

/** Separable box blur with running sums: O(pixels) whatever the radius. */
function boxBlur(src: Float32Array, width: number, height: number, radius: number): Float32Array {
  const pass = (input: Float32Array, w: number, h: number, stride: number, step: number): Float32Array => {
    const out = new Float32Array(input.length);
    for (let line = 0; line < h; line++) {
      const base = line * stride;
      let sum = 0;
      let count = 0;
      for (let i = 0; i <= Math.min(radius, w - 1); i++, count++) sum += input[base + i * step]!;
      for (let i = 0; i < w; i++) {
        out[base + i * step] = sum / count;
        const add = i + radius + 1;
        const drop = i - radius;
        if (add < w) {
          sum += input[base + add * step]!;
          count++;
        }
        if (drop >= 0) {
          sum -= input[base + drop * step]!;
          count--;
        }
      }
    }
    return out;
  };
  const rows = pass(src, width, height, width, 1);
  return pass(rows, height, width, 1, width);
}

function sobel(grey: Uint8Array, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const at = (x: number, y: number) => grey[Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))]!;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const gx = at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x - 1, y) - at(x - 1, y + 1);
      const gy = at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) - 2 * at(x, y - 1) - at(x + 1, y - 1);
      out[y * width + x] = Math.hypot(gx, gy);
    }
  }
  return out;
}
