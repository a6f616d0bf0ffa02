import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Config, FaceResult, Human as HumanClass } from '@vladmandic/human';

const require = createRequire(import.meta.url);
// The package's `exports` keys lack './' ("dist/human.node-wasm"), which Node refuses as a
// subpath: its node-wasm build is loaded by path. Its models ship in its own models/ folder.
const HUMAN_DIR = dirname(dirname(require.resolve('@vladmandic/human')));
const { Human } = require(join(HUMAN_DIR, 'dist/human.node-wasm.js')) as { Human: typeof HumanClass };
const MODELS = pathToFileURL(join(HUMAN_DIR, 'models') + '/').href;
// The .wasm files ship in tfjs-backend-wasm's dist/; Human's default is a CDN.
const WASM_DIR = dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/';

/** Side of the square crop the mesh model reads a face from (facemesh.json's input). */
const MESH_INPUT = 192;
/** The mesh model's own confidence that its crop holds a face: below it, not a face. */
const MIN_FACE_SCORE = 0.5;

const off = { enabled: false };
const CONFIG: Partial<Config> = {
  backend: 'wasm',
  wasmPath: WASM_DIR,
  modelBasePath: MODELS,
  debug: false,
  warmup: 'none',
  // Every call is a new photo: nothing is reused from the one before.
  cacheSensitivity: 0,
  cacheModels: false,
  face: {
    enabled: true,
    // rotation: the detector's rotation correction, so that a face turned 90° is found.
    // minConfidence: loose, as blazeface's box scores run low on real faces (0.53 on one
    // face-api sample); the mesh's own score then decides (MIN_FACE_SCORE).
    detector: { rotation: true, maxDetected: 1, minConfidence: 0.3, skipFrames: 0, skipTime: 0, return: false },
    mesh: { enabled: true, skipFrames: 0, skipTime: 0 },
    iris: { enabled: true, skipFrames: 0, skipTime: 0 },
    attention: off,
    description: off,
    emotion: off,
    antispoof: off,
    liveness: off,
    gear: off,
  },
  body: off,
  hand: off,
  object: off,
  gesture: off,
  segmentation: off,
  filter: off,
};

export interface MeshFace {
  /** 478 points [x, y, z] in pixels of the input (z: away from the camera). */
  mesh: number[][];
  score: number;
}

/** Human's face detector, mesh and iris models on TensorFlow.js's WebAssembly backend, offline. */
export class FaceMesh {
  private constructor(private readonly human: HumanClass) {}

  static async load(): Promise<FaceMesh> {
    const human = new Human(CONFIG);
    // Node's fetch has no file: URLs, and this build of tfjs has no file handler of its own:
    // model files are read from disk by tfjs's own HTTP loader given a local fetch.
    human.tf.io.registerLoadRouter((url: string | string[]) =>
      typeof url === 'string' && url.startsWith('file:')
        ? human.tf.io.http(url, { fetchFunc: async (u: string) => new Response(await readFile(fileURLToPath(u))) })
        : null,
    );
    await human.load();
    const missing = ['blazeface', 'facemesh', 'iris'].filter((name) => !human.models.models[name]);
    if (missing.length > 0) throw new Error(`face models not loaded: ${missing.join(', ')}`);
    const mesh = new FaceMesh(human);
    // A model's first run is its slowest (about twice a later one): pay for it now, not on a
    // call. A blank image runs the detector only, so the mesh and iris models run on zeros.
    await mesh.detect(new Uint8Array(128 * 128 * 3).fill(128), 128, 128, 1);
    for (const name of ['facemesh', 'iris']) {
      const model = human.models.models[name]!;
      const input = human.tf.zeros(model.inputs[0]!.shape!.map((d) => (d === -1 ? 1 : d)));
      human.tf.dispose([input, model.execute(input)]);
    }
    return mesh;
  }

  /** Faces in an RGB image, each with its 478-point mesh, the most confident first. */
  async detect(rgb: Uint8Array, width: number, height: number, maxFaces: number): Promise<MeshFace[]> {
    const { tf } = this.human;
    const input = tf.tensor3d(rgb, [height, width, 3], 'int32');
    let faces: FaceResult[];
    try {
      faces = (await this.human.detect(input, { face: { detector: { maxDetected: maxFaces } } })).face;
    } finally {
      input.dispose();
    }
    return faces
      .filter((f) => f.mesh.length === 478 && f.score >= MIN_FACE_SCORE)
      .map((f) => {
        // Human gives z in the mesh model's units (its 192-px crop); x and y are scaled to
        // the image by the crop's size: so is z here, for a pose in one unit.
        const zScale = (f.size[0] ?? MESH_INPUT) / MESH_INPUT;
        return { mesh: f.mesh.map(([x, y, z]) => [x!, y!, (z ?? 0) * zScale]), score: f.score };
      });
  }

  /** Tensors and bytes held by the backend: constant from call to call (no leak). */
  memory(): { tensors: number; bytes: number } {
    const m = this.human.tf.memory();
    return { tensors: m.numTensors, bytes: m.numBytes };
  }
}
