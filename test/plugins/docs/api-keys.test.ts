import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashKey } from '../../../src/partners/api-keys.js';
import { JPEG, NO_CHROMIUM, openSwaggerUi, tryOut, type SwaggerUi } from '../../helpers/swagger-ui.js';

const KEY = 'vg_swagger-ui-test-key-01234567';

describe('Swagger UI with API keys on', { skip: NO_CHROMIUM }, () => {
  let ui: SwaggerUi;
  before(async () => {
    ui = await openSwaggerUi(['keypoint'], { API_KEYS: `ui=${hashKey(KEY)}` });
  });
  after(() => ui?.close());

  test('lock icons on the partner routes; without a key the try-out answers 401, after Authorize 200', async () => {
    assert.ok((await ui.page.locator('.authorization__btn').count()) >= 3);
    assert.match((await tryOut(ui.page, '/v1/keypoints', 'multipart/form-data', { image: [JPEG] })).status, /^401/);
    await ui.page.click('.auth-wrapper .authorize');
    await ui.page.locator('.auth-container input').first().fill(KEY);
    await ui.page.locator('.auth-container button.authorize').first().click();
    await ui.page.click('.auth-btn-wrapper .btn-done');
    const r = await tryOut(ui.page, '/v1/keypoints', 'multipart/form-data', { image: [JPEG] });
    assert.equal(r.status, '200', r.body ?? '');
  });
});
