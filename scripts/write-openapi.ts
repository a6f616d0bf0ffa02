// Writes openapi/openapi.json from the route schemas: `npm run gen:openapi`.
// test/openapi.test.ts fails when the committed file differs from what this produces.
import { writeFileSync } from 'node:fs';
import { renderOpenApi } from '../src/openapi.js';

writeFileSync(new URL('../openapi/openapi.json', import.meta.url), await renderOpenApi());
console.log('wrote openapi/openapi.json');
