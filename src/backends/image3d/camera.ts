export type Motion = 'zoom' | 'swing' | 'circle' | 'dolly_zoom';

/** Where the virtual camera is at time t (0..1), as a per-depth warp of normalised coordinates. */
export interface CameraPose {
  /** Magnification of a pixel of nearness n (0 far, 1 near). */
  scale(n: number): number;
  /** Shift (fractions of the frame) of a pixel of nearness n. */
  dx(n: number): number;
  dy(n: number): number;
}

/**
 * The four camera paths. Near pixels move more than far ones (parallax), which is what makes
 * a flat photo look 3D:
 * - zoom: the camera pushes in, near things growing faster than far ones;
 * - swing: the camera sways left and right, near and far sliding against each other;
 * - circle: the camera moves on a small circle in the image plane;
 * - dolly_zoom: the "vertigo" shot, the subject keeps its size while the background grows.
 */
export function cameraAt(motion: Motion, t: number): CameraPose {
  const ease = 0.5 - 0.5 * Math.cos(Math.PI * t);
  const none = () => 0;
  switch (motion) {
    case 'zoom':
      return { scale: (n) => 1 + 0.25 * ease * (0.3 + 0.7 * n), dx: none, dy: none };
    case 'swing': {
      const s = Math.sin(2 * Math.PI * t);
      return { scale: () => 1.08, dx: (n) => 0.05 * s * (n - 0.3), dy: none };
    }
    case 'circle': {
      const a = 2 * Math.PI * t;
      return { scale: () => 1.08, dx: (n) => 0.04 * Math.cos(a) * (n - 0.3), dy: (n) => 0.04 * Math.sin(a) * (n - 0.3) };
    }
    case 'dolly_zoom':
      return { scale: (n) => 1.02 + 0.35 * ease * (1 - n), dx: none, dy: none };
  }
}

/**
 * One frame: each output pixel samples the photo (bilinear) where the camera pose maps it back
 * to, using the nearness at that output pixel (backward warping: no holes to fill). The pose is
 * tabulated for the 256 nearness levels first, so the pixel loop is plain arithmetic.
 */
export function renderFrame(
  rgba: Uint8Array,
  nearness: Uint8Array,
  width: number,
  height: number,
  pose: CameraPose,
  out: Uint8Array,
): void {
  const inv = new Float32Array(256);
  const shiftX = new Float32Array(256);
  const shiftY = new Float32Array(256);
  for (let level = 0; level < 256; level++) {
    const n = level / 255;
    inv[level] = 1 / pose.scale(n);
    shiftX[level] = pose.dx(n) * width;
    shiftY[level] = pose.dy(n) * height;
  }
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const level = nearness[i]!;
      const sx = Math.min(width - 1, Math.max(0, cx + (x - cx) * inv[level]! - shiftX[level]!));
      const sy = Math.min(height - 1, Math.max(0, cy + (y - cy) * inv[level]! - shiftY[level]!));
      const x0 = sx | 0;
      const y0 = sy | 0;
      const x1 = x0 + 1 < width ? x0 + 1 : x0;
      const y1 = y0 + 1 < height ? y0 + 1 : y0;
      const fx = sx - x0;
      const fy = sy - y0;
      const a = (y0 * width + x0) * 4;
      const b = (y0 * width + x1) * 4;
      const c = (y1 * width + x0) * 4;
      const d = (y1 * width + x1) * 4;
      for (let k = 0; k < 3; k++) {
        const top = rgba[a + k]! + (rgba[b + k]! - rgba[a + k]!) * fx;
        const bottom = rgba[c + k]! + (rgba[d + k]! - rgba[c + k]!) * fx;
        out[i * 4 + k] = top + (bottom - top) * fy;
      }
      out[i * 4 + 3] = 255;
    }
  }
}
