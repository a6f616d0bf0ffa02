import type { FastifyReply, FastifyRequest } from 'fastify';

/** q of each media range in an Accept header. */
function acceptQualities(accept: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of accept.split(',')) {
    const [range, ...params] = part.trim().toLowerCase().split(';');
    if (!range) continue;
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)).find(Boolean);
    out.set(range, q ? Number(q[1]) : 1);
  }
  return out;
}

/**
 * Whether the client asked for the JSON form of a binary answer: `application/json` is in its
 * Accept header, ranked at least as high as the binary type (or a wildcard covering it).
 */
export function wantsJson(request: FastifyRequest, binaryType: string): boolean {
  const accept = request.headers.accept;
  if (!accept) return false;
  const q = acceptQualities(accept);
  const json = q.get('application/json') ?? 0;
  const binary = Math.max(q.get(binaryType) ?? 0, q.get(`${binaryType.split('/')[0]}/*`) ?? 0, q.get('*/*') ?? 0);
  return json > 0 && json >= binary;
}

/** A file download: its type, a file name for browsers and curl -J, and the bytes. */
export function sendFile(reply: FastifyReply, bytes: Buffer, type: string, filename: string): FastifyReply {
  return reply.type(type).header('content-disposition', `attachment; filename="${filename}"`).send(bytes);
}

/**
 * The log ids of a binary answer's JSON form: this request's (as its `X-Tt-Logid`), and on a
 * job's result the submitting request's as `job_logid`.
 */
export const answerLogids = (request: FastifyRequest, jobLogid: string | undefined): { logid: string; job_logid?: string } => ({
  logid: request.id,
  ...(jobLogid ? { job_logid: jobLogid } : {}),
});

/** A binary answer's file name: the job's log id on a job's result (the same on every fetch), else this request's. */
export const downloadName = (request: FastifyRequest, jobLogid: string | undefined, extension: string): string => `${jobLogid ?? request.id}.${extension}`;
