import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { fixture } from '../helpers/fixtures.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { accepted, gatedImage3d, videoOf, waitForStatus, type GatedImage3d } from '../helpers/jobs.js';

describe('jobs with their inputs and results in S3 (s3rver, a local S3 implementation)', () => {
  let s3: S3rver;
  let endpoint: string;
  let be: GatedImage3d;
  let gw: TestGateway;
  const env = { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
  const s3Env = () => ({ JOB_S3_BUCKET: 'jobs', JOB_S3_ENDPOINT: endpoint, JOB_S3_FORCE_PATH_STYLE: 'true', JOB_S3_PREFIX: 'vg/' });
  before(async () => {
    // s3rver's fixed credentials, read by the AWS SDK's default chain as in production.
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: mkdtempSync(join(tmpdir(), 'vg-s3-')), configureBuckets: [{ name: 'jobs' }] });
    endpoint = `http://127.0.0.1:${(await s3.run()).port}`;
    be = await gatedImage3d();
    gw = await startGateway({ IMAGE3D_BACKENDS: be.address, JOB_STORE_DIR: mkdtempSync(join(tmpdir(), 'vg-jobs-s3-')), ...s3Env() });
  });
  after(async () => {
    await gw.close();
    await be.close();
    await s3.close();
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const keys = async () => {
    const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true });
    const res = await client.send(new ListObjectsV2Command({ Bucket: 'jobs' }));
    client.destroy();
    return (res.Contents ?? []).map((o) => o.Key!).sort();
  };

  test('the input and the result are objects in the bucket; the result comes back from there; DELETE removes them', async () => {
    const res = await fetch(`${gw.url}/v1/image3d/videos`, { method: 'POST', headers: { 'content-type': 'image/png', prefer: 'respond-async' }, body: fixture('coffee.png') });
    const job = await accepted(res);
    assert.deepEqual(await keys(), [`vg/${job.id}/input`]);
    be.release();
    await waitForStatus(gw.url, job.id, ['succeeded']);
    assert.deepEqual(await keys(), [`vg/${job.id}/input`, `vg/${job.id}/result`]);
    const result = await fetch(`${gw.url}/v1/jobs/${job.id}/result`);
    assert.deepEqual(Buffer.from(await result.arrayBuffer()), videoOf(1));
    assert.equal((await fetch(`${gw.url}/v1/jobs/${job.id}`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(await keys(), []);
  });

  test('a bucket that cannot be reached stops the start, naming JOB_S3_BUCKET', async () => {
    await assert.rejects(
      startGateway({ IMAGE3D_BACKENDS: be.address, JOB_STORE_DIR: mkdtempSync(join(tmpdir(), 'vg-jobs-s3-')), ...s3Env(), JOB_S3_BUCKET: 'no-such-bucket' }),
      /JOB_S3_BUCKET: bucket "no-such-bucket" cannot be reached/,
    );
  });
});
