import fastifyCors from '@fastify/cors';
import fp from 'fastify-plugin';

/** What a browser page may read of an answer besides the simple headers. */
const EXPOSED_HEADERS = [
  'X-Tt-Logid',
  'X-Skipped-Entries',
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'RateLimit-Policy',
  'RateLimit',
  'Content-Disposition',
  'Location',
  'Preference-Applied',
];

/**
 * CORS (@fastify/cors): pages on CORS_ORIGINS may call the API from a browser and read the
 * headers above. Registered after the log id and before keys and limits, so every answer,
 * a preflight's or a 401's or a 429's, carries both. Preflights are always answered (204): an
 * origin not on the list gets no Access-Control-Allow-Origin, which is the browser's refusal.
 * Origins are not per partner: a preflight carries no API key to tell the partner by, and the
 * key, not the page's origin, is what admits a call.
 */
export default fp<{ origins: string[] }>(
  async (app, { origins }) => {
    await app.register(fastifyCors, {
      origin: origins,
      methods: ['GET', 'HEAD', 'POST', 'DELETE'],
      // allowedHeaders left unset: the request headers a preflight asks for are allowed
      // (Authorization, X-Api-Key, Prefer, ...). No cookies are involved, so there is no
      // ambient credential for a page to misuse.
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: 600,
      // An OPTIONS without Origin is answered 204 too, not with the plugin's plain-text 400.
      strictPreflight: false,
    });
  },
  { name: 'cors', dependencies: ['request-context'] },
);
