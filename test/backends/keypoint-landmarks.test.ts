import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import keypoint from '../../gen/thrift/keypoint_types.js';
import { startKeypointBackend } from '../../src/backends/keypoint/server.js';
import type { RunningServer } from '../../src/shared/thrift-server.js';
import type { RpcClient } from '../../src/rpc/rpc-client.js';
import { fixture, groupPhoto } from '../helpers/fixtures.js';
import { ctx, rpcClient } from '../helpers/rpc.js';

type Pt = [number, number];

/** Where each of the 106 points goes when the face is mirrored (the layout's left↔right). */
const MIRRORED: number[] = (() => {
  const m = Array.from({ length: 106 }, (_, i) => i);
  for (let i = 0; i <= 32; i++) m[i] = 32 - i; // contour
  for (let k = 0; k < 9; k++) [m[33 + k], m[42 + k], m[51 + k], m[60 + k]] = [42 + k, 33 + k, 60 + k, 51 + k]; // brows, eyes
  for (let k = 0; k < 11; k++) m[75 + k] = 85 - k; // nose base
  for (let k = 0; k < 12; k++) m[86 + k] = 86 + ((18 - k) % 12); // outer lip: corner k=0 ↔ k=6
  for (let k = 0; k < 8; k++) m[98 + k] = 98 + ((12 - k) % 8); // inner lip: corner k=0 ↔ k=4
  return m;
})();

/**
 * The astronaut's eyes, read off the photo's pixels by eye (not by any detector): the opening
 * between the lids with 2 px to spare, and the pupil's centre.
 */
const EYES = {
  left: { box: { x: [189, 216], y: [93, 108] }, pupil: [203, 100] as Pt, points: [51, 59] },
  right: { box: { x: [233, 262], y: [95, 110] }, pupil: [246, 102] as Pt, points: [60, 68] },
};

describe('the reference keypoint backend measures the face in front of it', () => {
  let backend: RunningServer;
  let rpc: RpcClient;
  let original: keypoint.Face;
  let iod: number;
  const astronaut = fixture('astronaut.png');

  const detect = (image: Buffer, max_faces = 1) => rpc.call('keypoint', 'Detect', new keypoint.DetectRequest({ image, max_faces }), ctx());
  const points = (f: keypoint.Face): Pt[] => f.landmarks.map((p) => [p.x, p.y]);
  const dist = (a: Pt, b: Pt) => Math.hypot(a[0] - b[0], a[1] - b[1]);

  before(async () => {
    backend = await startKeypointBackend({ host: '127.0.0.1', port: 0, transport: 'framed', protocol: 'binary', maxFrameBytes: 64 << 20 });
    rpc = rpcClient({ KEYPOINT_BACKENDS: `127.0.0.1:${backend.port}`, KEYPOINT_TIMEOUT_MS: '170000' });
    original = (await detect(astronaut)).faces![0]!;
    iod = dist(points(original)[59]!, points(original)[68]!);
  });
  after(async () => {
    rpc.close();
    await backend.close();
  });

  /** The face in a transformed photo, its points mapped back into the original photo. */
  async function transformed(image: Buffer, back: (p: Pt, width: number, height: number) => Pt) {
    const res = await detect(image);
    assert.equal(res.faces!.length, 1);
    const face = res.faces![0]!;
    return { face, points: points(face).map((p) => back(p, res.image_width!, res.image_height!)) };
  }

  /** Mean and largest distance to the original's points, in inter-ocular distances. */
  function drift(mapped: Pt[], order = (i: number) => i) {
    const d = mapped.map((p, i) => dist(p, points(original)[order(i)]!) / iod);
    return { mean: d.reduce((a, b) => a + b) / d.length, max: Math.max(...d) };
  }

  /** A template fitted to a box would drift about 0.15 (mean) at ±15° and far more at 90°. */
  function assertFollows(name: string, { mean, max }: { mean: number; max: number }) {
    assert.ok(mean < 0.1 && max < 0.2, `${name}: mean ${mean.toFixed(3)}, max ${max.toFixed(3)} inter-ocular distances`);
  }

  /** sharp turns clockwise about the centre, onto a canvas grown to hold the turned photo. */
  const rotated = (degrees: number) => async () => {
    const image = await sharp(astronaut).rotate(degrees, { background: '#808080' }).png().toBuffer();
    const t = (degrees * Math.PI) / 180;
    return transformed(image, ([x, y], w, h): Pt => {
      const [dx, dy] = [x - w / 2, y - h / 2];
      return [Math.cos(t) * dx + Math.sin(t) * dy + 256, -Math.sin(t) * dx + Math.cos(t) * dy + 256];
    });
  };

  test('the eye points lie in the eyes, the pupils on the pupils', () => {
    assert.ok(iod > 38 && iod < 48, `inter-ocular distance ${iod}`);
    for (const [side, eye] of Object.entries(EYES)) {
      const [from, to] = eye.points;
      for (let i = from!; i <= to!; i++) {
        const [x, y] = points(original)[i]!;
        assert.ok(x >= eye.box.x[0]! && x <= eye.box.x[1]! && y >= eye.box.y[0]! && y <= eye.box.y[1]!, `${side} eye point ${i} at ${x},${y}`);
      }
      assert.ok(dist(points(original)[to!]!, eye.pupil) < 0.08 * iod, `${side} pupil at ${points(original)[to!]}`);
    }
  });

  for (const degrees of [15, -15, 90, -90]) {
    test(`the landmarks follow the face turned ${degrees}°, and the roll turns with it`, async () => {
      const { face, points: back } = await rotated(degrees)();
      assertFollows(`${degrees}°`, drift(back));
      assert.ok(Math.abs(face.roll! - original.roll! - degrees) < 5, `roll ${original.roll} → ${face.roll}`);
      assert.ok(Math.abs(face.yaw! - original.yaw!) < 6 && Math.abs(face.pitch! - original.pitch!) < 6, `yaw/pitch ${face.yaw}/${face.pitch}`);
      // The pupils stay on the pupils read off the photo.
      assert.ok(dist(back[59]!, EYES.left.pupil) < 0.15 * iod && dist(back[68]!, EYES.right.pupil) < 0.15 * iod, `pupils ${back[59]} ${back[68]}`);
    });
  }

  test('mirrored: each point lands on its mirror partner, yaw and roll change sign', async () => {
    const image = await sharp(astronaut).flop().png().toBuffer();
    const { face, points: back } = await transformed(image, ([x, y]) => [512 - x, y]);
    assertFollows('mirrored', drift(back, (i) => MIRRORED[i]!));
    assert.ok(Math.abs(face.roll! + original.roll!) < 4 && Math.abs(face.yaw! + original.yaw!) < 6, `${face.yaw} ${face.roll}`);
    assert.ok(Math.abs(face.pitch! - original.pitch!) < 6);
  });

  for (const scale of [0.6, 1.6]) {
    test(`scaled ×${scale}: the same points, scaled`, async () => {
      const image = await sharp(astronaut).resize(Math.round(512 * scale)).png().toBuffer();
      const { points: back } = await transformed(image, ([x, y], w) => [(x * 512) / w, (y * 512) / w]);
      assertFollows(`×${scale}`, drift(back));
    });
  }

  test('cropped around the head: the same points, shifted', async () => {
    const image = await sharp(astronaut).extract({ left: 120, top: 10, width: 220, height: 230 }).png().toBuffer();
    const { points: back } = await transformed(image, ([x, y]) => [x + 120, y + 10]);
    assertFollows('cropped', drift(back));
  });

  test('the pose says which way a face turns', async () => {
    // face-api's sample5.jpg, read off the photo: the woman left of centre (her face near
    // x 590..750, y 450..680) turns towards the image's right, the one at the right edge
    // (x 1425..1610) towards its left.
    const { faces } = await detect(groupPhoto(5), 10);
    const near = (x: number) => faces!.find((f) => Math.abs(f.rect.left - x) < 60)!;
    assert.ok(near(590).yaw! > 20, `yaw ${near(590).yaw}`);
    assert.ok(near(1425).yaw! < -20, `yaw ${near(1425).yaw}`);
  });
});
