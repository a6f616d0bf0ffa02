import ArScanService from '../../gen/thrift/ArScanService.js';
import arscan from '../../gen/thrift/arscan_types.js';
import type { GeneratedClientClass } from '../rpc/connection.js';
import { MAGIC, within } from '../rpc/reply-checks.js';
import { defineService, method } from './descriptor.js';

const MiB = 1024 * 1024;

/**
 * The IDL's limits (idl/arscan.thrift): its constants from the generated code, the ranges it
 * states only in comments written here, once.
 */
export const ARSCAN_LIMITS = {
  imageSide: { min: 64, max: 8192 },
  imageCount: { min: arscan.MIN_IMAGES, max: arscan.MAX_IMAGES },
  textureSize: { min: 256, max: 4096 },
};

export const arscanService = defineService({
  name: 'arscan',
  client: ArScanService.Client as unknown as GeneratedClientClass,
  methods: {
    Reconstruct: method(arscan.ReconstructRequest, arscan.ReconstructResponse, {
      present: ['model_zip'],
      check(request, response) {
        if (!response.model_zip?.length) return 'no model';
        if (!MAGIC.zip(response.model_zip)) return 'a model that is not a zip file';
        const format = request.model_format ?? 'glb';
        if (response.model_format != null && response.model_format !== format) return `a model in another format than the ${format} asked for`;
        if (response.vertex_count != null && response.vertex_count < 0) return `vertex_count ${response.vertex_count} is negative`;
        const sent = request.images.length;
        if (response.images_used != null && !within(response.images_used, 0, sent)) return `images_used ${response.images_used} is outside 0..${sent}`;
        return undefined;
      },
    }),
  },
  // A real reconstruction takes minutes on a GPU queue. A model with a 4096-pixel texture is
  // tens of MB; the cap also keeps its base64 JSON answer under V8's longest string.
  defaults: { timeoutMs: 300_000, maxReplyBytes: 256 * MiB },
  tag: { name: 'arscan', description: 'Photos of an object to a textured 3D model' },
  routes: () => import('../routes/arscan.js'),
  reference: { entry: 'arscan' },
  jobs: true,
});
