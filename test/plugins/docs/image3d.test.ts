import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Job as JobSchema } from '../../../src/schemas/jobs.js';
import { JPEG, NO_CHROMIUM, openSwaggerUi, PNG, tryOut, type SwaggerUi } from '../../helpers/swagger-ui.js';
import { waitForStatus } from '../../helpers/jobs.js';

/** Every body form Swagger UI offers, executed with its defaults: nothing typed, only a photo chosen. */
describe('Swagger UI: image3d videos', { skip: NO_CHROMIUM }, () => {
  let ui: SwaggerUi;
  before(async () => {
    ui = await openSwaggerUi(['image3d']);
  });
  after(() => ui?.close());

  for (const [contentType, files] of [
    ['application/json', {}],
    ['multipart/form-data', { image: [JPEG] }],
    ['image/jpeg', { '': [JPEG] }],
    ['image/png', { '': [PNG] }],
  ] as const) {
    test(`${contentType}${contentType === 'application/json' ? ' as prefilled' : ' with a photo chosen'}: an MP4 to download`, async () => {
      const r = await tryOut(ui.page, '/v1/image3d/videos', contentType, files);
      assert.equal(r.status, '200', r.body ?? '');
      assert.match(r.download!, /\.mp4$/);
    });
  }

  test('with Prefer: respond-async typed, a job (202), whose result is then fetched as the MP4 to download', async () => {
    await ui.reload();
    const submitted = await tryOut(ui.page, '/v1/image3d/videos', 'image/jpeg', { '': [JPEG] }, { prefer: 'respond-async' });
    assert.equal(submitted.status, '202', submitted.body ?? '');
    const job = JobSchema.parse(JSON.parse(submitted.body!));
    assert.match(job.id, /^job_/);
    // The job runs meanwhile; its result is the same video the synchronous route answers.
    await waitForStatus(ui.gw.url, job.id, ['succeeded']);
    const result = await tryOut(ui.page, '/v1/jobs/{id}/result', undefined, {}, { id: job.id }, 'GET');
    assert.equal(result.status, '200', result.body ?? '');
    assert.match(result.download!, /\.mp4$/);
  });
});
