import type { FastifyRequest } from 'fastify';

/** The partner of a request when keys are not asked for. */
export const ANONYMOUS = 'anonymous';

/**
 * Only the partner API asks for a key (and is limited and billed): health, readiness, metrics
 * and the docs stay open. Decided by the route matched, not the raw URL, which can spell the
 * same path otherwise (`/%761/keypoints`).
 */
export const isPartnerRoute = (request: FastifyRequest): boolean => request.routeOptions.url?.startsWith('/v1/') ?? false;
