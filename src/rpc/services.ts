import KeypointService from '../../gen/thrift/KeypointService.js';
import type keypoint from '../../gen/thrift/keypoint_types.js';
import type { BackendName } from '../config.js';
import type { GeneratedClientClass } from './connection.js';

/** Each backend's methods, with the request and response types the IDL gives them. */
export interface BackendMethods {
  keypoint: { Detect: { request: keypoint.DetectRequest; response: keypoint.DetectResponse } };
}

export const SERVICE_CLIENTS: Record<BackendName, GeneratedClientClass> = {
  keypoint: KeypointService.Client as unknown as GeneratedClientClass,
};
