// Writes openapi/openapi.json from the route schemas, and examples/visiongate-api.d.ts (the
// client's types) from it: `npm run gen:openapi`. test/openapi.test.ts fails when either
// committed file differs from what this produces.
import { writeFileSync } from 'node:fs';
import { renderOpenApi } from '../src/openapi.js';
import { renderClientTypes } from './openapi-types.js';

const document = await renderOpenApi();
writeFileSync(new URL('../openapi/openapi.json', import.meta.url), document);
writeFileSync(new URL('../examples/visiongate-api.d.ts', import.meta.url), await renderClientTypes(document));
console.log('wrote openapi/openapi.json and examples/visiongate-api.d.ts');
