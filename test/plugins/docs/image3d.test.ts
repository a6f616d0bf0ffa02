import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JPEG, NO_CHROMIUM, openSwaggerUi, PNG, tryOut, type SwaggerUi } from '../../helpers/swagger-ui.js';

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
});
