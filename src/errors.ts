/**
 * The one error catalogue: every code the gateway answers, once, with its HTTP status and
 * default message. `Record<ErrorCode, ...>` makes the compiler reject a code without a status.
 */
export const ERROR_CODES = [
  'BAD_REQUEST',
  'INVALID_JSON',
  'INVALID_ARGUMENT',
  'INVALID_BASE64',
  'MISSING_IMAGE',
  'INVALID_IMAGE',
  'INVALID_MULTIPART',
  'UNAUTHENTICATED',
  'API_KEY_REJECTED',
  'RATE_LIMITED',
  'TOO_MANY_CONCURRENT_REQUESTS',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'METHOD_NOT_IMPLEMENTED',
  'REQUEST_TIMEOUT',
  'PAYLOAD_TOO_LARGE',
  'HEADERS_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNSUPPORTED_IMAGE_FORMAT',
  'IMAGE_UNDECODABLE',
  'IMAGE_DIMENSIONS_UNSUPPORTED',
  'INTERNAL_ERROR',
  'BACKEND_ERROR',
  'BACKEND_PROTOCOL_ERROR',
  'BACKEND_CONNECTION_LOST',
  'BACKEND_UNAVAILABLE',
  'BACKEND_OVERLOADED',
  'BACKEND_TIMEOUT',
  'NOT_READY',
  'GATEWAY_OVERLOADED',
  'CLIENT_CLOSED_REQUEST',
  'INVALID_ARCHIVE',
  'ARCHIVE_LIMIT_EXCEEDED',
  'ARCHIVE_UNSUPPORTED',
  'NOT_ENOUGH_IMAGES',
  'TOO_MANY_IMAGES',
  'RECONSTRUCTION_FAILED',
  'JOB_NOT_FOUND',
  'JOB_NOT_FINISHED',
  'JOB_CANCELED',
  'JOB_EXPIRED',
  'JOB_ALREADY_FINISHED',
  'TOO_MANY_JOBS',
  'IDEMPOTENCY_KEY_REUSED',
  'IDEMPOTENCY_KEY_IN_USE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** What a route that takes one image in any body form can refuse (for its OpenAPI entry). */
export const IMAGE_INPUT_ERRORS: ErrorCode[] = [
  // A body too slow, paused or late is cut off whatever its route (plugins/body-guard.ts).
  'REQUEST_TIMEOUT',
  'INVALID_JSON',
  'INVALID_ARGUMENT',
  'INVALID_BASE64',
  'MISSING_IMAGE',
  'INVALID_IMAGE',
  'INVALID_MULTIPART',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNSUPPORTED_IMAGE_FORMAT',
  'IMAGE_DIMENSIONS_UNSUPPORTED',
];

/** What any partner route can refuse before reading the request: keys and limits. */
export const PARTNER_ERRORS: ErrorCode[] = ['UNAUTHENTICATED', 'API_KEY_REJECTED', 'RATE_LIMITED', 'TOO_MANY_CONCURRENT_REQUESTS'];

/** What any backend call can end in. */
export const BACKEND_CALL_ERRORS: ErrorCode[] = [
  'IMAGE_UNDECODABLE',
  'BACKEND_ERROR',
  'BACKEND_PROTOCOL_ERROR',
  'BACKEND_CONNECTION_LOST',
  'BACKEND_UNAVAILABLE',
  'BACKEND_OVERLOADED',
  'BACKEND_TIMEOUT',
];

interface CatalogueEntry {
  status: number;
  message: string;
  /** Seconds for `Retry-After`, where trying again later is the right move. */
  retryAfter?: number;
}

export const CATALOGUE: Record<ErrorCode, CatalogueEntry> = {
  BAD_REQUEST: { status: 400, message: 'The request is malformed.' },
  INVALID_JSON: { status: 400, message: 'The body is not valid JSON.' },
  INVALID_ARGUMENT: { status: 400, message: 'An argument is missing or out of range.' },
  INVALID_BASE64: { status: 400, message: 'The image is not valid standard base64.' },
  MISSING_IMAGE: { status: 400, message: 'No image was sent.' },
  INVALID_IMAGE: { status: 400, message: 'The image is truncated or its header is corrupt.' },
  INVALID_MULTIPART: { status: 400, message: 'The multipart body is malformed.' },
  UNAUTHENTICATED: { status: 401, message: 'An API key is needed: send it as "Authorization: Bearer <key>" or "X-Api-Key: <key>".' },
  API_KEY_REJECTED: { status: 403, message: 'This API key is not accepted.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests for this partner; slow down.', retryAfter: 1 },
  TOO_MANY_CONCURRENT_REQUESTS: { status: 429, message: 'Too many requests in flight for this partner; wait for some to finish.', retryAfter: 1 },
  NOT_FOUND: { status: 404, message: 'No such route.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This route does not accept that method.' },
  METHOD_NOT_IMPLEMENTED: { status: 501, message: 'The gateway does not implement this method.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request body did not arrive in time.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'This Content-Type is not accepted here.' },
  UNSUPPORTED_IMAGE_FORMAT: { status: 415, message: 'Only JPEG and PNG images are accepted.' },
  IMAGE_UNDECODABLE: { status: 422, message: 'The image could not be decoded.' },
  IMAGE_DIMENSIONS_UNSUPPORTED: { status: 422, message: 'The image dimensions are outside the supported range.' },
  INTERNAL_ERROR: { status: 500, message: 'Internal error.' },
  BACKEND_ERROR: { status: 502, message: 'The backend failed to process the request.' },
  BACKEND_PROTOCOL_ERROR: { status: 502, message: 'The backend answered with a malformed reply.' },
  BACKEND_CONNECTION_LOST: { status: 502, message: 'The connection to the backend was lost during the call.' },
  BACKEND_UNAVAILABLE: { status: 503, message: 'The backend is unreachable.', retryAfter: 1 },
  BACKEND_OVERLOADED: { status: 503, message: 'The backend is overloaded; try again shortly.', retryAfter: 1 },
  BACKEND_TIMEOUT: { status: 504, message: 'The backend did not answer in time.' },
  NOT_READY: { status: 503, message: 'A backend has no reachable instance.', retryAfter: 1 },
  INVALID_ARCHIVE: { status: 400, message: 'The archive is not a valid zip file.' },
  ARCHIVE_LIMIT_EXCEEDED: { status: 413, message: 'The archive exceeds a limit on entries, size or compression ratio.' },
  ARCHIVE_UNSUPPORTED: { status: 422, message: 'The archive uses a feature the gateway does not accept (such as encryption).' },
  NOT_ENOUGH_IMAGES: { status: 422, message: 'The capture set has too few images.' },
  TOO_MANY_IMAGES: { status: 422, message: 'The capture set has too many images.' },
  RECONSTRUCTION_FAILED: { status: 422, message: 'No model could be built from these images.' },
  GATEWAY_OVERLOADED: { status: 503, message: 'The gateway is overloaded; try again shortly.', retryAfter: 1 },
  // nginx's 499: never sent (the client has gone); what the backend call ended in, for the log.
  CLIENT_CLOSED_REQUEST: { status: 499, message: 'The client closed its connection before the answer; the work was given up.' },
  JOB_NOT_FOUND: { status: 404, message: 'No such job.' },
  JOB_NOT_FINISHED: { status: 409, message: 'The job has not finished yet; try again later.', retryAfter: 2 },
  JOB_CANCELED: { status: 409, message: 'The job was canceled; it has no result.' },
  JOB_EXPIRED: { status: 410, message: 'The job has expired; its result is no longer kept.' },
  JOB_ALREADY_FINISHED: { status: 409, message: 'The job has already finished.' },
  TOO_MANY_JOBS: { status: 429, message: 'This partner has too many queued jobs; wait for some to start.', retryAfter: 5 },
  IDEMPOTENCY_KEY_REUSED: { status: 422, message: 'This Idempotency-Key was used with a different request.' },
  IDEMPOTENCY_KEY_IN_USE: { status: 409, message: 'A request with this Idempotency-Key is still being accepted; try again shortly.', retryAfter: 1 },
};

export interface FieldIssue {
  field: string;
  message: string;
}

/**
 * An answer is a few KiB at most, whatever the request held: a name taken from the request is
 * cut to QUOTED_CHARS, a message to MESSAGE_CHARS, and only LISTED_ISSUES field issues are listed
 * (a 2 MB body of unknown keys once came back as an 11.7 MB answer).
 */
const QUOTED_CHARS = 64;
const MESSAGE_CHARS = 1024;
export const LISTED_ISSUES = 5;

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** A name from the request, quoted for a message: JSON-escaped (no control characters reach the answer) and cut short. */
export function quoted(name: string): string {
  return JSON.stringify(cut(name, QUOTED_CHARS));
}

/** Field issues as one sentence: the first LISTED_ISSUES, then how many more there are. */
export function describeIssues(issues: FieldIssue[]): string {
  const listed = issues.slice(0, LISTED_ISSUES).map((e) => `${quoted(e.field)} ${e.message}`);
  const more = issues.length - LISTED_ISSUES;
  return listed.join('; ') + (more > 0 ? `; and ${more} more` : '');
}

/** Bytes as a person reads them: "15 MiB", "20.06 MiB", "64 KiB". */
export function formatBytes(bytes: number): string {
  const [unit, size] = bytes >= 1024 * 1024 ? ['MiB', 1024 * 1024] : bytes >= 1024 ? ['KiB', 1024] : ['bytes', 1];
  return `${Math.round((bytes / (size as number)) * 100) / 100} ${unit}`;
}

/** An error the gateway answers with. `cause` is for the log only, never the answer. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: FieldIssue[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string = CATALOGUE[code].message,
    opts: { cause?: unknown; errors?: FieldIssue[]; headers?: Record<string, string> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ApiError';
    this.code = code;
    this.status = CATALOGUE[code].status;
    this.errors = opts.errors;
    const retryAfter = CATALOGUE[code].retryAfter;
    this.headers = { ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }), ...opts.headers };
  }
}

/** The RFC 9457 body, with the contract's `code`, `message` and `logid`. */
export interface Problem {
  type: 'about:blank';
  title: string;
  status: number;
  code: ErrorCode;
  message: string;
  detail: string;
  logid: string;
  /** On a failed job's result (an RFC 9457 extension member): the submitting request's log id. */
  job_logid?: string;
  errors?: FieldIssue[];
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
  499: 'Client Closed Request',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function toProblem(err: ApiError, logid: string): Problem {
  return {
    type: 'about:blank',
    title: STATUS_TITLES[err.status] ?? 'Error',
    status: err.status,
    code: err.code,
    message: cut(err.message, MESSAGE_CHARS),
    detail: cut(err.message, MESSAGE_CHARS),
    logid,
    ...(err.errors ? { errors: err.errors.slice(0, LISTED_ISSUES).map((e) => ({ field: cut(e.field, QUOTED_CHARS), message: cut(e.message, QUOTED_CHARS * 2) })) } : {}),
  };
}
