import KeypointService from '../../gen/thrift/KeypointService.js';
import keypoint from '../../gen/thrift/keypoint_types.js';
import type { GeneratedClientClass } from '../rpc/connection.js';
import { defineService, method } from './descriptor.js';

const MiB = 1024 * 1024;

/**
 * The IDL's limits (idl/keypoint.thrift): its constants from the generated code, the ranges
 * it states only in comments written here, once.
 */
export const KEYPOINT_LIMITS = {
  imageSide: { min: 32, max: 4096 },
  maxFaces: { min: 1, max: 10 },
  landmarkCount: keypoint.LANDMARK_COUNT,
};

export const keypointService = defineService({
  name: 'keypoint',
  client: KeypointService.Client as unknown as GeneratedClientClass,
  methods: { Detect: method(keypoint.DetectRequest, keypoint.DetectResponse) },
  // Ten faces of 106 points are about 30 KB.
  defaults: { timeoutMs: 10_000, maxReplyBytes: 1 * MiB },
  tag: { name: 'keypoints', description: 'Faces and landmarks' },
  routes: () => import('../routes/keypoints.js'),
  reference: { entry: 'keypoint' },
});
