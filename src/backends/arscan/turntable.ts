import { Document, NodeIO } from '@gltf-transform/core';
import sharp from 'sharp';

export type ModelFormat = 'glb' | 'obj';

export interface Photo {
  name: string;
  data: Buffer;
}

export interface Model {
  /** File name → bytes, for the zip. */
  files: Array<[string, Buffer]>;
  vertexCount: number;
}

export interface PhotoInfo {
  width: number;
  height: number;
}

/**
 * A turntable of textured panels: the capture set's photos, in order, stand as panels around
 * a circle (an N-sided prism with no caps), each textured with its photo, as the object would
 * be seen walking around it. All photos share one texture atlas of texture_size² pixels, a
 * grid of cells, so the model's size is bounded whatever the number of photos. A simple,
 * honest stand-in for photogrammetry: real geometry, real textures from the input.
 */
export async function buildTurntable(photos: Photo[], infos: PhotoInfo[], textureSize: number, format: ModelFormat): Promise<Model> {
  const n = photos.length;
  const cols = Math.ceil(Math.sqrt(n));
  const cell = Math.floor(textureSize / cols);
  const cells = await Promise.all(
    photos.map(async (p, i) => ({
      input: await sharp(p.data).autoOrient().resize(cell, cell, { fit: 'fill' }).removeAlpha().toBuffer(),
      left: (i % cols) * cell,
      top: Math.floor(i / cols) * cell,
    })),
  );
  const atlas = await sharp({ create: { width: textureSize, height: textureSize, channels: 3, background: '#808080' } })
    .composite(cells)
    .jpeg({ quality: 85 })
    .toBuffer();

  // Panels touch edge to edge around a circle of radius 1; each is as tall as its photo's aspect.
  const aspect = infos.reduce((sum, i) => sum + i.height / i.width, 0) / n;
  const half = Math.tan(Math.PI / n);
  const height = 2 * half * aspect;
  const positions: number[] = [];
  const normals: number[] = [];
  const uvs: number[] = [];
  const indices: number[] = [];
  for (let i = 0; i < n; i++) {
    const angle = (2 * Math.PI * i) / n;
    const [cx, cz] = [Math.sin(angle), Math.cos(angle)];
    const [tx, tz] = [Math.cos(angle), -Math.sin(angle)]; // along the panel, left to right seen from outside
    const u0 = ((i % cols) * cell) / textureSize;
    const v0 = (Math.floor(i / cols) * cell) / textureSize;
    const du = cell / textureSize;
    const corners: Array<[number, number, number, number]> = [
      [-1, 0, u0, v0 + du],
      [1, 0, u0 + du, v0 + du],
      [1, 1, u0 + du, v0],
      [-1, 1, u0, v0],
    ];
    for (const [side, up, u, v] of corners) {
      positions.push(cx + side * half * tx, up * height, cz + side * half * tz);
      normals.push(cx, 0, cz);
      uvs.push(u, v);
    }
    const k = i * 4;
    indices.push(k, k + 1, k + 2, k, k + 2, k + 3);
  }
  const vertexCount = positions.length / 3;
  const files: Array<[string, Buffer]> =
    format === 'glb' ? [['model.glb', await glb(positions, normals, uvs, indices, atlas)]] : obj(positions, normals, uvs, indices, atlas);
  return { files, vertexCount };
}

async function glb(positions: number[], normals: number[], uvs: number[], indices: number[], atlas: Buffer): Promise<Buffer> {
  const doc = new Document();
  const buffer = doc.createBuffer();
  const texture = doc.createTexture('atlas').setImage(new Uint8Array(atlas)).setMimeType('image/jpeg').setURI('atlas.jpg');
  const material = doc.createMaterial('turntable').setBaseColorTexture(texture).setDoubleSided(true).setRoughnessFactor(1).setMetallicFactor(0);
  const accessor = (type: 'VEC3' | 'VEC2' | 'SCALAR', array: Float32Array | Uint32Array) => doc.createAccessor().setType(type).setArray(array).setBuffer(buffer);
  const primitive = doc
    .createPrimitive()
    .setAttribute('POSITION', accessor('VEC3', new Float32Array(positions)))
    .setAttribute('NORMAL', accessor('VEC3', new Float32Array(normals)))
    .setAttribute('TEXCOORD_0', accessor('VEC2', new Float32Array(uvs)))
    .setIndices(accessor('SCALAR', new Uint32Array(indices)))
    .setMaterial(material);
  const mesh = doc.createMesh('turntable').addPrimitive(primitive);
  doc.createScene('scene').addChild(doc.createNode('turntable').setMesh(mesh));
  return Buffer.from(await new NodeIO().writeBinary(doc));
}

function obj(positions: number[], normals: number[], uvs: number[], indices: number[], atlas: Buffer): Array<[string, Buffer]> {
  const lines = ['# turntable of textured panels (visiongate reference arscan backend)', 'mtllib model.mtl', 'o turntable'];
  for (let i = 0; i < positions.length; i += 3) lines.push(`v ${positions[i]!.toFixed(6)} ${positions[i + 1]!.toFixed(6)} ${positions[i + 2]!.toFixed(6)}`);
  // OBJ's v runs bottom to top; the glTF UVs above run top to bottom.
  for (let i = 0; i < uvs.length; i += 2) lines.push(`vt ${uvs[i]!.toFixed(6)} ${(1 - uvs[i + 1]!).toFixed(6)}`);
  for (let i = 0; i < normals.length; i += 3) lines.push(`vn ${normals[i]!.toFixed(6)} ${normals[i + 1]!.toFixed(6)} ${normals[i + 2]!.toFixed(6)}`);
  lines.push('usemtl turntable');
  for (let i = 0; i < indices.length; i += 3) {
    const [a, b, c] = [indices[i]! + 1, indices[i + 1]! + 1, indices[i + 2]! + 1];
    lines.push(`f ${a}/${a}/${a} ${b}/${b}/${b} ${c}/${c}/${c}`);
  }
  const mtl = ['newmtl turntable', 'Ka 1 1 1', 'Kd 1 1 1', 'Ks 0 0 0', 'd 1', 'illum 1', 'map_Kd atlas.jpg'].join('\n') + '\n';
  return [
    ['model.obj', Buffer.from(lines.join('\n') + '\n')],
    ['model.mtl', Buffer.from(mtl)],
    ['atlas.jpg', atlas],
  ];
}
