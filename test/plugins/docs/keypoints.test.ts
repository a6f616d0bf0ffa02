import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KeypointsAnswer } from '../../../src/schemas/keypoints.js';
import { JPEG, NO_CHROMIUM, openSwaggerUi, PNG, tryOut, type Executed, type SwaggerUi } from '../../helpers/swagger-ui.js';

const faces = (r: Executed) => KeypointsAnswer.parse(JSON.parse(r.body!)).faces.length;

/** Every body form Swagger UI offers, executed with its defaults: nothing typed, only a photo chosen. */
describe('Swagger UI: keypoints, without API keys', { skip: NO_CHROMIUM }, () => {
  let ui: SwaggerUi;
  before(async () => {
    ui = await openSwaggerUi(['keypoint']);
  });
  after(() => ui?.close());

  test('no lock icons and no Authorize button where no key is asked for', async () => {
    assert.ok((await ui.page.locator('.opblock').count()) >= 5);
    assert.equal(await ui.page.locator('.authorization__btn').count(), 0);
    assert.equal(await ui.page.locator('.auth-wrapper .authorize').count(), 0);
  });

  test('the JSON example as prefilled finds the face', async () => {
    const r = await tryOut(ui.page, '/v1/keypoints', 'application/json');
    assert.equal(r.status, '200', r.body ?? '');
    assert.equal(faces(r), 1);
  });

  for (const [contentType, files] of [
    ['multipart/form-data', { image: [JPEG] }],
    ['image/jpeg', { '': [JPEG] }],
    ['image/png', { '': [PNG] }],
  ] as const) {
    test(`${contentType} with a photo chosen finds the face`, async () => {
      const r = await tryOut(ui.page, '/v1/keypoints', contentType, files);
      assert.equal(r.status, '200', r.body ?? '');
      assert.equal(faces(r), 1);
    });
  }
});
