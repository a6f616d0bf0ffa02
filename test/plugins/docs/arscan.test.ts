import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CAPTURE_PHOTOS, CAPTURE_ZIP, NO_CHROMIUM, openSwaggerUi, tryOut, type SwaggerUi } from '../../helpers/swagger-ui.js';

/** Every body form Swagger UI offers, executed with its defaults: nothing typed, only files chosen. */
describe('Swagger UI: arscan models', { skip: NO_CHROMIUM }, () => {
  let ui: SwaggerUi;
  before(async () => {
    ui = await openSwaggerUi(['arscan']);
  });
  after(() => ui?.close());

  for (const [form, contentType, files] of [
    ['the JSON example as prefilled (images, not also an archive; texture_size the default)', 'application/json', {}],
    ['multipart with an archive chosen', 'multipart/form-data', { archive: [CAPTURE_ZIP] }],
    ['multipart with three images chosen', 'multipart/form-data', { images: CAPTURE_PHOTOS }],
    ['a raw zip chosen', 'application/zip', { '': [CAPTURE_ZIP] }],
  ] as const) {
    test(`${form}: a model zip to download`, async () => {
      await ui.reload(); // a file chosen for one multipart field would stay chosen for the next execution
      const r = await tryOut(ui.page, '/v1/arscan/models', contentType, files);
      assert.equal(r.status, '200', r.body ?? '');
      assert.match(r.download!, /\.zip$/);
    });
  }
});
