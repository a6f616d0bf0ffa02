import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatusCode } from '../src/rpc/backend-status.js';
import { RPC_ERROR_KINDS, RpcError, type RpcErrorKind } from '../src/rpc/rpc-error.js';
import { apiErrorFromRpc, errorCodeOf } from '../src/rpc-to-http.js';
import { ApiError } from '../src/errors.js';

const failed = (kind: RpcErrorKind, options: ConstructorParameters<typeof RpcError>[3] = {}) => {
  const err = new RpcError(kind, 'what the gateway saw', true, options);
  err.backend = 'keypoint';
  return err;
};

test('every RpcError kind maps to its catalogue code and status', () => {
  const expected: Record<Exclude<RpcErrorKind, 'backend-status'>, [string, number]> = {
    timeout: ['BACKEND_TIMEOUT', 504],
    unavailable: ['BACKEND_UNAVAILABLE', 503],
    'connection-lost': ['BACKEND_CONNECTION_LOST', 502],
    protocol: ['BACKEND_PROTOCOL_ERROR', 502],
    application: ['BACKEND_ERROR', 502],
    overloaded: ['BACKEND_OVERLOADED', 503],
    abandoned: ['CLIENT_CLOSED_REQUEST', 499],
  };
  assert.deepEqual(RPC_ERROR_KINDS.filter((k) => k !== 'backend-status').sort(), Object.keys(expected).sort());
  for (const [kind, [code, status]] of Object.entries(expected)) {
    const err = failed(kind as RpcErrorKind);
    const answer = apiErrorFromRpc(err);
    assert.deepEqual([answer.code, answer.status], [code, status], kind);
    assert.equal(answer.cause, err, 'the RpcError stays the cause, for the log');
    assert.equal(errorCodeOf(err), code);
  }
});

test('every StatusCode of the IDL maps to its catalogue code, status and words; one it does not list is a BACKEND_ERROR', () => {
  const expected: Record<string, [string, number, string]> = {
    INVALID_ARGUMENT: ['INVALID_ARGUMENT', 400, 'The backend refused an argument of the request.'],
    INVALID_IMAGE: ['IMAGE_UNDECODABLE', 422, 'The backend could not decode the image.'],
    IMAGE_SIZE_UNSUPPORTED: ['IMAGE_DIMENSIONS_UNSUPPORTED', 422, 'The backend does not accept images of these dimensions.'],
    NOT_ENOUGH_IMAGES: ['NOT_ENOUGH_IMAGES', 422, 'The backend needs more images of the object.'],
    RECONSTRUCTION_FAILED: ['RECONSTRUCTION_FAILED', 422, 'The backend could not register the images into one model.'],
    OVERLOADED: ['BACKEND_OVERLOADED', 503, 'The backend is overloaded; try again shortly.'],
    INTERNAL_ERROR: ['BACKEND_ERROR', 502, 'The backend failed with an internal error.'],
  };
  // The generated enum maps both ways: its names are the entries with a number.
  const idl = Object.entries(StatusCode).filter((e): e is [string, number] => typeof e[1] === 'number' && e[0] !== 'OK');
  assert.deepEqual(idl.map(([name]) => name).sort(), Object.keys(expected).sort(), 'the table covers the IDL');
  for (const [name, statusCode] of idl) {
    const err = failed('backend-status', { statusCode, said: 'private words' });
    const answer = apiErrorFromRpc(err);
    assert.deepEqual([answer.code, answer.status, answer.message], expected[name], name);
    assert.doesNotMatch(answer.message, /private/);
  }
  const unknown = apiErrorFromRpc(failed('backend-status', { statusCode: 4242 }));
  assert.deepEqual([unknown.code, unknown.status, unknown.message], ['BACKEND_ERROR', 502, 'The backend failed to process the request.']);
});

test('only a broken exchange is told in the gateway\'s words, naming the backend; nothing the backend said reaches the answer', () => {
  for (const kind of RPC_ERROR_KINDS) {
    const { message } = apiErrorFromRpc(failed(kind, { said: 'private words', ...(kind === 'backend-status' ? { statusCode: 5000 } : {}) }));
    if (kind === 'protocol' || kind === 'connection-lost') assert.equal(message, 'The keypoint backend call failed: what the gateway saw.');
    else assert.doesNotMatch(message, /what the gateway saw|private/, kind);
  }
});

test('Retry-After: the catalogue\'s, or the whole seconds until an instance is due back', () => {
  assert.equal(apiErrorFromRpc(failed('overloaded')).headers['retry-after'], '1');
  assert.equal(apiErrorFromRpc(failed('backend-status', { statusCode: StatusCode.OVERLOADED })).headers['retry-after'], '1');
  assert.equal(apiErrorFromRpc(failed('unavailable')).headers['retry-after'], '1');
  assert.equal(apiErrorFromRpc(failed('unavailable', { retryAfterMs: 3001 })).headers['retry-after'], '4');
  assert.equal(apiErrorFromRpc(failed('unavailable', { retryAfterMs: 20 })).headers['retry-after'], '1');
  assert.equal(apiErrorFromRpc(failed('timeout')).headers['retry-after'], undefined);
});

test('the outcome metrics and traces name: the code the failure is answered with', () => {
  assert.equal(errorCodeOf(failed('backend-status', { statusCode: StatusCode.INVALID_IMAGE })), 'IMAGE_UNDECODABLE');
  assert.equal(errorCodeOf(new ApiError('RATE_LIMITED')), 'RATE_LIMITED');
  assert.equal(errorCodeOf(new Error('a bug')), 'INTERNAL_ERROR');
});
