export interface Pose {
  yaw: number;
  pitch: number;
  roll: number;
}

type Vec = [number, number, number];

const sub = (a: readonly number[], b: readonly number[]): Vec => [a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!];
const cross = (a: Vec, b: Vec): Vec => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const unit = (v: Vec): Vec => {
  const n = Math.hypot(...v);
  return [v[0] / n, v[1] / n, v[2] / n];
};
const degrees = (rad: number) => Math.round((rad * 1800) / Math.PI) / 10;

/**
 * Head pose in degrees from a 3D mesh in pixels (x right, y down, z away from the camera).
 * The face's axes come from four vertices: across from the left cheek (234) to the right one
 * (454), down from the forehead (10) to the chin (152), the third perpendicular to both. Their
 * rotation is taken apart as roll (about the camera's axis), then yaw, then pitch
 * (R = Rz(roll)·Ry(yaw)·Rx(pitch)), so that turning the photo changes the roll only:
 * - roll: positive when the face is turned clockwise in the image;
 * - yaw: positive when the face turns towards the image's right;
 * - pitch: positive when the face looks down.
 */
export function poseFromMesh(mesh: readonly (readonly number[])[]): Pose {
  const down = unit(sub(mesh[152]!, mesh[10]!));
  const depth = unit(cross(unit(sub(mesh[454]!, mesh[234]!)), down));
  const across = cross(down, depth);
  return {
    roll: degrees(Math.atan2(across[1], across[0])),
    yaw: degrees(Math.asin(Math.max(-1, Math.min(1, across[2])))),
    pitch: degrees(Math.atan2(down[2], depth[2])),
  };
}
