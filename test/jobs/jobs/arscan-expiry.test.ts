import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import arscan from '../../../gen/thrift/arscan_types.js';
import base from '../../../gen/thrift/base_types.js';
import { fakeArscan, type FakeBackend } from '../../helpers/fake-backends.js';
import { fixture } from '../../helpers/fixtures.js';
import { ArscanJsonAnswer } from '../../../src/schemas/arscan.js';
import { JobList } from '../../../src/schemas/jobs.js';
import { expectAnswer, expectProblem, startGateway, type TestGateway } from '../../helpers/gateway.js';
import { makeZip } from '../../helpers/zips.js';
import { accepted, waitForStatus } from '../../helpers/jobs.js';
import { until } from '../../helpers/until.js';

const MODEL = Buffer.from('PK\x03\x04 model zip as the backend made it', 'latin1');

describe('arscan jobs, and their expiry', () => {
  let be: FakeBackend<arscan.ReconstructRequest>;
  let gw: TestGateway;
  let dir: string;
  let zip: Buffer;
  before(async () => {
    be = await fakeArscan((req) => new arscan.ReconstructResponse({ model_zip: MODEL, vertex_count: 8, images_used: req.images.length, BaseResp: new base.BaseResp({ StatusCode: 0 }) }));
    dir = mkdtempSync(join(tmpdir(), 'vg-jobs-arscan-'));
    gw = await startGateway({ ARSCAN_BACKENDS: be.address, JOB_STORE_DIR: dir, JOB_RESULT_TTL_S: '2' });
    const photo = fixture('motorcycle_left.png');
    zip = await makeZip([['a.png', photo], ['b.png', fixture('motorcycle_right.png')], ['c.png', photo], ['notes.txt', Buffer.from('hi')]]);
  });
  after(async () => {
    await gw.close();
    await be.close();
  });

  test('a multipart archive as a job: the result is the synchronous answer, skipped entries and all', async () => {
    const form = new FormData();
    form.set('archive', new Blob([zip]), 'capture.zip');
    form.set('format', 'obj');
    const res = await fetch(`${gw.url}/v1/arscan/models`, { method: 'POST', headers: { prefer: 'respond-async' }, body: form });
    const job = await accepted(res);
    assert.equal(job.kind, 'arscan');
    await waitForStatus(gw.url, job.id, ['succeeded']);
    const result = await fetch(`${gw.url}/v1/jobs/${job.id}/result`);
    assert.equal(result.headers.get('content-type'), 'application/zip');
    assert.equal(result.headers.get('x-skipped-entries'), 'notes.txt');
    assert.equal(result.headers.get('content-disposition'), `attachment; filename="${job.logid}.zip"`);
    assert.deepEqual(Buffer.from(await result.arrayBuffer()), MODEL);
    const jsonRes = await fetch(`${gw.url}/v1/jobs/${job.id}/result`, { headers: { accept: 'application/json' } });
    const json = await expectAnswer(jsonRes, ArscanJsonAnswer);
    assert.deepEqual(json, { logid: jsonRes.headers.get('x-tt-logid'), job_logid: job.logid, format: 'obj', vertex_count: 8, images_used: 3, skipped: ['notes.txt'], model_zip: MODEL.toString('base64') });
    assert.equal(be.requests.at(-1)!.model_format, 'obj');
  });

  test('past JOB_RESULT_TTL_S a finished job is expired: its input and result are deleted, its result is 410', async () => {
    const res = await fetch(`${gw.url}/v1/arscan/models`, { method: 'POST', headers: { prefer: 'respond-async, wait=10', 'content-type': 'application/zip' }, body: zip });
    assert.equal(res.status, 200); // finished within the wait: the synchronous answer
    const [job] = (await expectAnswer(await fetch(`${gw.url}/v1/jobs?limit=1`), JobList)).jobs;
    assert.equal(job!.status, 'succeeded');
    assert.equal(job!.logid, res.headers.get('x-tt-logid'));
    assert.ok(existsSync(join(dir, 'blobs', job!.id, 'input')));
    const expired = await waitForStatus(gw.url, job!.id, ['expired']);
    assert.equal(expired.result_url, null);
    assert.ok(!existsSync(join(dir, 'blobs', job!.id)));
    await expectProblem(await fetch(`${gw.url}/v1/jobs/${job!.id}/result`), 410, 'JOB_EXPIRED');
    // One lifetime later the record itself goes.
    await until(async () => (await fetch(`${gw.url}/v1/jobs/${job!.id}`)).status === 404, 'the expired job to be gone');
  });
});
