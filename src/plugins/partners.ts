import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.js';
import type { KeyRing } from '../partners/api-keys.js';
import { ANONYMOUS, isPartnerRoute } from '../partners/identity.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who calls: the API key's partner id, or "anonymous" when keys are not asked for. */
    partner: string;
  }
}

function presentedKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    if (m) return m[1];
  }
  const key = request.headers['x-api-key'];
  return typeof key === 'string' && key.length > 0 ? key : undefined;
}

/**
 * API keys, when configured (API_KEYS_FILE / API_KEYS): `Authorization: Bearer <key>` or
 * `X-Api-Key: <key>`. None is 401, an unknown or revoked one 403. The partner id goes into
 * every later log line of the request, its metrics, and `Base.Client` of its backend calls.
 */
export default fp<{ keys: KeyRing | undefined }>(
  async (app, { keys }) => {
    app.decorateRequest('partner', ANONYMOUS);
    if (!keys) return;
    app.addHook('onRequest', async (request, reply) => {
      if (!isPartnerRoute(request)) return;
      const key = presentedKey(request);
      if (key === undefined) {
        reply.header('www-authenticate', 'Bearer realm="visiongate"');
        throw new ApiError('UNAUTHENTICATED');
      }
      const verdict = keys.verify(key);
      if (!verdict) throw new ApiError('API_KEY_REJECTED', 'This API key is not known.');
      if ('revoked' in verdict) throw new ApiError('API_KEY_REJECTED', 'This API key has been revoked.');
      request.partner = verdict.partner.id;
      request.log = request.log.child({ partner: request.partner });
    });
  },
  { name: 'partners', dependencies: ['request-context'] },
);
