import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config/schema.js';
import type { GeneratedClientClass } from '../rpc/connection.js';

/**
 * One method of a service, connect-es style: the IDL's request and response classes. `Reply`
 * is the response as a caller gets it, after the reply checks (rpc/reply-checks.ts) have made
 * sure that the fields it names are there.
 */
export interface Method<Request = unknown, Reply = unknown> {
  request: new (args: never) => Request;
  response: new (args: never) => unknown;
  /**
   * What is wrong with a successful reply (StatusCode OK), in the gateway's own words, or
   * undefined when it keeps what the IDL promises (rpc/reply-checks.ts runs it).
   */
  check(request: Request, response: never): string | undefined;
  /** Carries the reply's type only; no value. */
  reply?: Reply;
}

/**
 * A method from its generated classes and its reply check; `present` names the reply fields
 * the check guarantees, which the reply's type then has.
 */
export function method<Req, Res, K extends keyof Res = never>(
  request: new (args: never) => Req,
  response: new (args: never) => Res,
  reply: { present?: readonly K[]; check(request: Req, response: Res): string | undefined },
): Method<Req, Res & { [F in K]-?: NonNullable<Res[F]> }> {
  return { request, response, check: reply.check };
}

/** A route plugin of a service; app.ts registers each service's with the gateway's config. */
export type ServiceRoute = FastifyPluginAsync<{ config: Config }>;

/**
 * Everything the gateway knows of one backend service, declared once: configuration names
 * (`<NAME>_BACKENDS`, ...), the OpenAPI tag, readiness, metrics labels and the reference
 * backend's launch all follow from the list of these (services/index.ts).
 */
export interface ServiceDescriptor<Name extends string = string, Methods extends Record<string, Method> = Record<string, Method>> {
  /** Lower case; its variables are `<NAME upper-cased>_*`, its metrics label and readiness key this. */
  name: Name;
  /** The generated Thrift client (gen/thrift/<Service>.js). */
  client: GeneratedClientClass;
  methods: Methods;
  /** Defaults of `<NAME>_TIMEOUT_MS` and `<NAME>_MAX_REPLY_BYTES`. */
  defaults: { timeoutMs: number; maxReplyBytes: number };
  /** The OpenAPI tag of its routes. */
  tag: { name: string; description: string };
  /**
   * Its routes, loaded when the app is built: a descriptor is read by the configuration too,
   * which must not load fastify routes (nor could it: routes read the config's types and
   * schemas that read the descriptor's limits).
   */
  routes: () => Promise<{ default: ServiceRoute }>;
  /**
   * The built-in reference backend (a CPU stand-in) that `npm start` launches when
   * `<NAME>_BACKENDS` is unset: the entry name the reference-backends unit knows it by.
   * Without one, `<NAME>_BACKENDS` is required.
   */
  reference?: { entry: string };
  /**
   * Whether its work may also run as a job (`Prefer: respond-async`, src/jobs/): its route then
   * registers a JobKind named as the service.
   */
  jobs: boolean;
}

/** Checks a descriptor's shape and keeps its literal name and method types. */
export function defineService<const Name extends string, Methods extends Record<string, Method>, const Jobs extends boolean>(
  descriptor: ServiceDescriptor<Name, Methods> & { jobs: Jobs },
): ServiceDescriptor<Name, Methods> & { jobs: Jobs } {
  if (!/^[a-z][a-z0-9]*$/.test(descriptor.name)) throw new Error(`service name "${descriptor.name}" must be lower-case letters and digits`);
  return descriptor;
}

/** `keypoint` -> `KEYPOINT_`: the prefix of a service's variables. */
export const envPrefix = (name: string): string => `${name.toUpperCase()}_`;
