import type { FastifyRequest } from 'fastify';

/** A request's route, as metrics, logs and usage name it: unmatched URLs share one name, so scanners cannot grow a label set. */
export const routeOf = (request: FastifyRequest): string => request.routeOptions.url ?? 'unmatched';
