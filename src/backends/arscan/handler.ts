import sharp from 'sharp';
import arscan from '../../../gen/thrift/arscan_types.js';
import base from '../../../gen/thrift/base_types.js';
import { buildTurntable, type ModelFormat, type PhotoInfo } from './turntable.js';
import { writeZip } from '../../shared/write-zip.js';

const { StatusCode } = base;
const SIDE = { min: 64, max: 8192 };
/** Photos of one object from around it share a shape; past this spread of aspect ratios they cannot be one turntable. */
const MAX_ASPECT_SPREAD = 2;

const answer = (code: number, message: string) =>
  new arscan.ReconstructResponse({ BaseResp: new base.BaseResp({ StatusCode: code, StatusMessage: message }) });

/** `ArScanService.Reconstruct` on the CPU: checks the request as the IDL says, then builds the model. */
export function arscanHandler() {
  return {
    async Reconstruct(req: arscan.ReconstructRequest): Promise<arscan.ReconstructResponse> {
      const images = req.images ?? [];
      const format = req.model_format ?? 'glb';
      const textureSize = req.texture_size ?? 2048;
      if (images.length < arscan.MIN_IMAGES) return answer(StatusCode.NOT_ENOUGH_IMAGES, `${images.length} images; at least ${arscan.MIN_IMAGES} are needed`);
      if (images.length > arscan.MAX_IMAGES) return answer(StatusCode.INVALID_ARGUMENT, `${images.length} images; at most ${arscan.MAX_IMAGES}`);
      if (format !== 'glb' && format !== 'obj') return answer(StatusCode.INVALID_ARGUMENT, `model_format ${JSON.stringify(format)} is not glb or obj`);
      if (!Number.isInteger(textureSize) || textureSize < 256 || textureSize > 4096) {
        return answer(StatusCode.INVALID_ARGUMENT, `texture_size ${textureSize} is outside 256..4096`);
      }
      const infos: PhotoInfo[] = [];
      for (const image of images) {
        let meta;
        try {
          meta = await sharp(image.data).metadata();
        } catch (err) {
          return answer(StatusCode.INVALID_IMAGE, `${image.name}: ${(err as Error).message}`);
        }
        const width = meta.autoOrient?.width ?? meta.width ?? 0;
        const height = meta.autoOrient?.height ?? meta.height ?? 0;
        if (Math.min(width, height) < SIDE.min || Math.max(width, height) > SIDE.max) {
          return answer(StatusCode.IMAGE_SIZE_UNSUPPORTED, `${image.name} is ${width}x${height}; sides must be ${SIDE.min}..${SIDE.max}`);
        }
        infos.push({ width, height });
      }
      const aspects = infos.map((i) => i.width / i.height);
      if (Math.max(...aspects) / Math.min(...aspects) > MAX_ASPECT_SPREAD) {
        return answer(StatusCode.RECONSTRUCTION_FAILED, 'the photos differ too much in shape to be views of one object');
      }
      try {
        const model = await buildTurntable(images, infos, textureSize, format as ModelFormat);
        return new arscan.ReconstructResponse({
          model_zip: await writeZip(model.files),
          model_format: format,
          vertex_count: model.vertexCount,
          images_used: images.length,
          BaseResp: new base.BaseResp({ StatusCode: StatusCode.OK }),
        });
      } catch (err) {
        return answer(StatusCode.INVALID_IMAGE, `an image could not be decoded: ${(err as Error).message}`);
      }
    },
  };
}
