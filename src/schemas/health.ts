import { z } from 'zod';
import { INSTANCE_STATES } from '../rpc/instance-health.js';
import { named } from './json-schema.js';

export const Liveness = named('Liveness', z.object({ status: z.literal('ok') }).meta({ example: { status: 'ok' } }));
export type Liveness = z.infer<typeof Liveness>;

const State = z.enum(['up', 'down']);

const Instance = z.object({
  address: z.string().meta({ description: 'host:port as resolved.' }),
  name: z.string().optional().meta({ description: 'The host name it was resolved from.' }),
  state: z.enum(INSTANCE_STATES),
  inFlight: z.number().meta({ description: 'Calls in flight now.' }),
  retryInMs: z.number().optional().meta({ description: 'Ejected: when it is tried again.' }),
  error: z.string().optional().meta({ description: 'Why the last probe or call failed.' }),
});

const BackendReadiness = z.object({
  state: State,
  reference: z.literal(true).optional().meta({ description: 'Served by the built-in reference backend, a CPU stand-in, not the real service.' }),
  routes: z.array(z.string()).meta({ description: 'The routes this backend serves.' }),
  instances: z.array(Instance),
});

export const Readiness = named(
  'Readiness',
  z
    .object({
      status: z.enum(['ready', 'degraded']).meta({ description: '`degraded`: some routes cannot be served.' }),
      routes: z.record(z.string(), State).meta({ description: 'Each partner route, `METHOD /path`, and whether it can be served.' }),
      backends: z.record(z.string(), BackendReadiness),
    })
    .meta({
      example: {
        status: 'degraded',
        routes: { 'POST /v1/keypoints': 'down', 'POST /v1/image3d/videos': 'up', 'POST /v1/arscan/models': 'up' },
        backends: {
          keypoint: {
            state: 'down',
            routes: ['POST /v1/keypoints'],
            instances: [{ address: '10.0.0.7:9090', state: 'ejected', inFlight: 0, retryInMs: 800, error: 'connect ECONNREFUSED' }],
          },
          image3d: { state: 'up', routes: ['POST /v1/image3d/videos'], instances: [{ address: '10.0.0.8:9090', state: 'up', inFlight: 1 }] },
          arscan: { state: 'up', reference: true, routes: ['POST /v1/arscan/models'], instances: [{ address: '127.0.0.1:40123', state: 'up', inFlight: 0 }] },
        },
      },
    }),
);
export type Readiness = z.infer<typeof Readiness>;
