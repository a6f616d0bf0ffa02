import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KeypointsAnswer } from '../../src/schemas/keypoints.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { requireTool } from '../helpers/tools.js';

const run = promisify(execFile);
const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

// The examples run as a partner would run them: against the gateway as `npm start` serves it,
// with its own reference backends.
describe('examples/ against the gateway with its reference backends', () => {
  const NO_CURL = requireTool('curl', 'curl');
  let server: ServerProcess;
  const out = mkdtempSync(join(tmpdir(), 'vg-examples-'));
  before(async () => {
    // Deadlines a loaded machine meets: a first render there took longer than the default 10 s.
    server = await startServerProcess({ JOB_STORE_DIR: join(out, 'jobs'), KEYPOINT_TIMEOUT_MS: '60000', IMAGE3D_TIMEOUT_MS: '120000' });
  });
  after(() => {
    server.child.kill('SIGTERM');
  });

  const script = async (name: string) => (await run('bash', [join(examples, 'curl', name)], { env: { ...process.env, BASE_URL: server.url, OUT_DIR: out } })).stdout;
  const saved = (name: string) => readFileSync(join(out, name));

  test('a curl script for every route and input form, each answered', { skip: NO_CURL }, async () => {
    const scripts = readdirSync(join(examples, 'curl')).filter((f) => f.endsWith('.sh') && f !== 'common.sh');
    assert.equal(scripts.length, 12);
    for (const form of ['json', 'multipart', 'raw']) {
      const answer = KeypointsAnswer.parse(JSON.parse(await script(`keypoints-${form}.sh`)));
      assert.equal(answer.faces.length, 1, form);
      assert.equal(answer.faces[0]!.landmarks.length, 106);
    }
    await script('image3d-json.sh');
    assert.equal(saved('image3d.mp4').subarray(4, 8).toString(), 'ftyp');
    await script('image3d-multipart.sh');
    assert.equal(saved('image3d.gif').subarray(0, 4).toString(), 'GIF8');
    assert.match(await script('image3d-raw.sh'), /^\{"logid":/);
    for (const [name, file] of [
      ['arscan-raw-zip.sh', 'model-glb.zip'],
      ['arscan-multipart-archive.sh', 'model-obj.zip'],
      ['arscan-multipart-images.sh', 'model-images.zip'],
      ['arscan-json-archive.sh', 'model-archive.zip'],
    ]) {
      await script(name!);
      assert.equal(saved(file!).subarray(0, 2).toString(), 'PK', name);
    }
    assert.match(await script('arscan-json-images.sh'), /"vertex_count":\d+/);
    assert.match(await script('jobs-flow.sh'), /^job: \/v1\/jobs\/job_.*status: succeeded\nmodel: /s);
    assert.equal(saved('model-job.zip').subarray(0, 2).toString(), 'PK');
  });

  test('a refused request makes a script fail, printing the problem', { skip: NO_CURL }, async () => {
    await assert.rejects(
      run('bash', [join(examples, 'curl', 'keypoints-raw.sh')], { env: { ...process.env, BASE_URL: `${server.url}/nowhere`, OUT_DIR: out } }),
      (err: { code: number; stdout: string }) => err.code !== 0 && /"code":"NOT_FOUND"/.test(err.stdout),
    );
  });

  test('the TypeScript client makes one call of each kind', async () => {
    // From another folder, as a partner's project would: tsx is found from here.
    const { stdout } = await run(process.execPath, ['--import', import.meta.resolve('tsx'), join(examples, 'client.ts'), server.url], { cwd: out });
    assert.match(stdout, /keypoints: 1 face\(s\), first with 106 landmarks/);
    assert.match(stdout, /image3d: \d+ bytes/);
    assert.match(stdout, /arscan: \d+ bytes/);
    assert.match(stdout, /arscan as a job \(job_[\w-]+\): \d+ bytes/);
    assert.match(stdout, /and a refusal: 415 UNSUPPORTED_IMAGE_FORMAT: .*\(logid \w+\)/);
  });
});
