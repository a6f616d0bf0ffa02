import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { readFileSync } from 'node:fs';
import { componentSchemas } from '../schemas/json-schema.js';
import { JOB_KINDS, SERVICES } from '../services/index.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * The OpenAPI document, from the route schemas, at /openapi.json; Swagger UI at /docs. The API
 * keys (security schemes, lock icons, Authorize) only where `security` says keys are asked for:
 * without keys, Swagger UI would offer an Authorize that nothing checks.
 */
export default fp<{ security: boolean }>(
  async (app, { security }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'visiongate',
          version,
          description:
            'The HTTP gateway to the vision services. Every answer carries `X-Tt-Logid`; send your own (1..64 of ' +
            '`[A-Za-z0-9_.-]`) to follow a request through our logs. Errors are `application/problem+json` with ' +
            '`code`, `message` and `logid`.\n\n' +
            'Where API keys are on, every `/v1/` route needs one: `Authorization: Bearer <key>` (use **Authorize** ' +
            'above to try routes here) or `X-Api-Key: <key>`. Each partner has limits on requests per second and ' +
            'in flight; past them the answer is 429 with `Retry-After` and `RateLimit-*` headers.',
          license: { name: 'Proprietary: use under your partner agreement', identifier: 'LicenseRef-visiongate-partner' },
        },
        // Relative: the gateway that serves the document (and its Swagger UI) is the one to call.
        servers: [{ url: '/', description: 'The gateway serving this document' }],
        components: {
          schemas: componentSchemas(),
          ...(security && {
            securitySchemes: {
              bearerAuth: { type: 'http', scheme: 'bearer', description: 'The API key, as `Authorization: Bearer <key>`.' },
              apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'The API key, as `X-Api-Key: <key>`.' },
            },
          }),
        },
        ...(security && { security: [{ bearerAuth: [] }, { apiKeyHeader: [] }] }),
        tags: [
          ...SERVICES.map((s) => s.tag),
          { name: 'jobs', description: `Long work (${JOB_KINDS.join(', ')}) submitted with \`Prefer: respond-async\`: its state, result, events` },
          { name: 'operations', description: 'Health and readiness (no key needed)' },
        ],
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'docs' },
);
