import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import sharp from 'sharp';
import { FaceMesh } from '../../src/backends/keypoint/face-mesh.js';
import { LANDMARKS_106, type Source } from '../../src/backends/keypoint/landmarks-106.js';
import { poseFromMesh } from '../../src/backends/keypoint/pose.js';
import { fixture, groupPhoto } from '../helpers/fixtures.js';

const format = (s: Source) => s.map(([vertex, weight]) => (weight === 1 ? `${vertex}` : `${weight}×${vertex}`)).join(' + ');

test('the 106-point mapping: each point from mesh vertices, weights summing to 1, as docs/reference-backends.md lists it', () => {
  assert.equal(LANDMARKS_106.length, 106);
  for (const source of LANDMARKS_106) {
    assert.ok(source.every(([vertex]) => Number.isInteger(vertex) && vertex >= 0 && vertex < 478));
    assert.equal(source.reduce((sum, [, weight]) => sum + weight, 0), 1);
  }
  const docs = readFileSync(new URL('../../docs/reference-backends.md', import.meta.url), 'utf8');
  const documented: string[] = [];
  for (const [, from, to, list] of docs.matchAll(/^\| (\d+)–(\d+) \| [a-z ]+ \| ([\d×.+, ]+) \|$/gm)) {
    const points = list!.split(', ');
    assert.equal(points.length, Number(to) - Number(from) + 1, `docs row ${from}–${to}`);
    documented.push(...points);
  }
  assert.deepEqual(documented, LANDMARKS_106.map(format));
});

test('the pose is the rotation the mesh was turned by: roll, then yaw, then pitch', () => {
  const rad = (deg: number) => (deg * Math.PI) / 180;
  for (const [yaw, pitch, roll] of [[0, 0, 0], [25, -10, 5], [-40, 20, -30], [10, 15, 90], [-5, 5, -90]] as const) {
    const [cy, sy, cp, sp, cr, sr] = [Math.cos(rad(yaw)), Math.sin(rad(yaw)), Math.cos(rad(pitch)), Math.sin(rad(pitch)), Math.cos(rad(roll)), Math.sin(rad(roll))];
    // Rz(roll)·Ry(yaw)·Rx(pitch) in image axes (x right, y down, z away), with the yaw that turns
    // the face's right side (the image's right) away from the camera.
    const turn = ([x, y, z]: number[]) => {
      const [x1, y1, z1] = [x!, cp * y! - sp * z!, sp * y! + cp * z!];
      const [x2, z2] = [cy * x1 - sy * z1, sy * x1 + cy * z1];
      return [cr * x2 - sr * y1 + 300, sr * x2 + cr * y1 + 200, z2];
    };
    const mesh: number[][] = Array.from({ length: 478 }, () => [0, 0, 0]);
    mesh[234] = turn([-70, 0, 30]);
    mesh[454] = turn([70, 0, 30]);
    mesh[10] = turn([0, -80, 10]);
    mesh[152] = turn([0, 90, 10]);
    const pose = poseFromMesh(mesh);
    for (const [name, want] of Object.entries({ yaw, pitch, roll })) {
      assert.ok(Math.abs(pose[name as 'yaw'] - want) < 0.2, `${name} ${pose[name as 'yaw']} for ${want}`);
    }
  }
});

test('the face model runs offline, and holds the same tensors after every call', async () => {
  const fetched: string[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url) => {
    fetched.push(String(url));
    throw new Error('no network in this test');
  };
  try {
    const model = await FaceMesh.load();
    const photos = await Promise.all(
      [fixture('astronaut.png'), fixture('coffee.png'), groupPhoto(4)].map((p) => sharp(p).resize(1280, 1280, { fit: 'inside' }).removeAlpha().raw().toBuffer({ resolveWithObject: true })),
    );
    let held: ReturnType<FaceMesh['memory']> | undefined;
    for (let round = 0; round < 3; round++) {
      for (const { data, info } of photos) {
        const faces = await model.detect(new Uint8Array(data), info.width, info.height, 10);
        assert.ok(faces.every((f) => f.mesh.length === 478 && f.score >= 0.5));
        held ??= model.memory();
        assert.deepEqual(model.memory(), held);
      }
    }
  } finally {
    globalThis.fetch = realFetch;
  }
  assert.deepEqual(fetched, []);
});
