import { buildApp } from './app.js';
import { loadConfig } from './config/load.js';

/** The OpenAPI document as committed in openapi/, as a gateway with API keys serves it: built from the routes, no backend needed. */
export async function renderOpenApi(): Promise<string> {
  const app = await buildApp(loadConfig({ LOG_LEVEL: 'silent' }), { documentKeys: true });
  await app.ready();
  const doc = JSON.stringify(app.swagger(), null, 2) + '\n';
  await app.close();
  return doc;
}
