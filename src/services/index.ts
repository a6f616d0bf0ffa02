import { arscanService } from './arscan.js';
import type { Method } from './descriptor.js';
import { image3dService } from './image3d.js';
import { keypointService } from './keypoint.js';

/**
 * The backend services the gateway fronts, in the order their routes are registered (and
 * listed in the OpenAPI document). A new backend is one more descriptor here.
 */
export const SERVICES = [keypointService, image3dService, arscanService] as const;

type Service = (typeof SERVICES)[number];

export type BackendName = Service['name'];

export const BACKEND_NAMES: readonly BackendName[] = SERVICES.map((s) => s.name);

/** The services whose work may run as a job (a job's kind is its service's name), by name: the order of the API's kind enum. */
export type JobKindName = Extract<Service, { jobs: true }>['name'];
export const JOB_KINDS = SERVICES.flatMap((s) => (s.jobs ? [s.name] : [])).sort() as [JobKindName, ...JobKindName[]];

/** A service's descriptor by name. */
export const serviceNamed = <B extends BackendName>(name: B): Extract<Service, { name: B }> =>
  SERVICES.find((s) => s.name === name) as Extract<Service, { name: B }>;

/**
 * Each backend's methods, with the request and reply types its descriptor gives them:
 * `BackendMethods['image3d']['Render']['request']`.
 */
export type BackendMethods = {
  [S in Service as S['name']]: {
    [M in keyof S['methods']]: S['methods'][M] extends Method<infer Q, infer R> ? { request: Q; response: R } : never;
  };
};
