import { baseRespOf, StatusCode } from './backend-status.js';

/**
 * What the IDL promises of each backend's replies, checked before anything of a reply reaches
 * a partner: a backend that breaks it (NaN landmarks, 5 million of them, an empty video) gets
 * its call failed as a protocol error, with a diagnosis in the gateway's own words. Numbers the
 * backend sent may be quoted; its text never is.
 */

// Each method's own check is in its service's descriptor (src/services/); these are what they share.

const finite = (v: number) => Number.isFinite(v);
export const within = (v: number, min: number, max: number) => finite(v) && v >= min && v <= max;

/** A coordinate may lie outside the image (a face cut by its edge), but not further than one image size. */
export const nearImage = (v: number, side: number) => within(v, -side, 2 * side);

/** Whether bytes begin as a file of each kind does. */
export const MAGIC = {
  mp4: (b: Buffer) => b.length >= 8 && b.toString('latin1', 4, 8) === 'ftyp',
  gif: (b: Buffer) => /^GIF8[79]a$/.test(b.toString('latin1', 0, 6)),
  png: (b: Buffer) => b.toString('hex', 0, 8) === '89504e470d0a1a0a',
  zip: (b: Buffer) => b.toString('hex', 0, 4) === '504b0304',
};

/**
 * What is wrong with a backend's reply, or undefined when it keeps the IDL's promises. A reply
 * with a non-zero StatusCode carries no payload: it is mapped from its code elsewhere.
 */
export function replyFault(check: (request: never, response: never) => string | undefined, request: unknown, response: unknown): string | undefined {
  const status = baseRespOf(response);
  if (!status) return 'no BaseResp';
  if (status.StatusCode !== StatusCode.OK) return undefined;
  // The generated codec decoded `response` for this method, from this request.
  return (check as (request: unknown, response: unknown) => string | undefined)(request, response);
}
