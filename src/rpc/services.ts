import ArScanService from '../../gen/thrift/ArScanService.js';
import type arscan from '../../gen/thrift/arscan_types.js';
import Image3DService from '../../gen/thrift/Image3DService.js';
import type image3d from '../../gen/thrift/image3d_types.js';
import KeypointService from '../../gen/thrift/KeypointService.js';
import type keypoint from '../../gen/thrift/keypoint_types.js';
import type { BackendName } from '../config/schema.js';
import type { GeneratedClientClass } from './connection.js';

/**
 * Each backend's methods, with the request and response types the IDL gives them; a response
 * as it reaches a caller, after the reply checks (reply-checks.ts): its payload is there.
 */
export interface BackendMethods {
  keypoint: { Detect: { request: keypoint.DetectRequest; response: keypoint.DetectResponse } };
  image3d: { Render: { request: image3d.RenderRequest; response: image3d.RenderResponse & { video: Buffer } } };
  arscan: { Reconstruct: { request: arscan.ReconstructRequest; response: arscan.ReconstructResponse & { model_zip: Buffer } } };
}

export const SERVICE_CLIENTS: Record<BackendName, GeneratedClientClass> = {
  keypoint: KeypointService.Client as unknown as GeneratedClientClass,
  image3d: Image3DService.Client as unknown as GeneratedClientClass,
  arscan: ArScanService.Client as unknown as GeneratedClientClass,
};
