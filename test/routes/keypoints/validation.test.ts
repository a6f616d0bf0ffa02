import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fakeKeypoint, ok, type FakeKeypoint } from '../../helpers/fake-backends.js';
import { fixture, flatPng, jpeg } from '../../helpers/fixtures.js';
import { refusedBeforeBackend, startGateway, type TestGateway } from '../../helpers/gateway.js';

/** Every refusal is checked for its status, code, log id, and that no backend call was made. */
describe('POST /v1/keypoints refuses bad input before any backend call', () => {
  let be: FakeKeypoint;
  let gw: TestGateway;
  before(async () => {
    be = await fakeKeypoint(() => ok());
    gw = await startGateway({ KEYPOINT_BACKENDS: be.address, MAX_IMAGE_BYTES: String(2 * 1024 * 1024) });
  });
  after(async () => {
    await gw.close();
    await be.close();
  });

  const refused = (init: RequestInit & { query?: string }, status: number, code: string, message?: RegExp) =>
    refusedBeforeBackend(be, () => fetch(`${gw.url}/v1/keypoints${init.query ?? ''}`, { method: 'POST', ...init }), status, code, message);

  const json = (value: unknown, query = '') => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(value), query });
  const rawPng = (body: Buffer, query = '') => ({ headers: { 'content-type': 'image/png' }, body, query });
  const b64 = fixture('coffee.png').toString('base64');

  describe('base64', () => {
    test('a long string where an option goes is refused like a short one (it is read from the body bytes)', async () => {
    await refused(json({ image: b64, max_faces: 'x'.repeat(5000) }), 400, 'INVALID_ARGUMENT', /"max_faces"/);
    await refused(json({ image: b64, motion: 'x'.repeat(5000) }), 400, 'INVALID_ARGUMENT', /"motion" is not a known field/);
  });

  test('a character outside the alphabet', () => refused(json({ image: `${b64.slice(0, 100)}*${b64.slice(101)}` }), 400, 'INVALID_BASE64', /position 100/));
    test('URL-safe characters are not standard base64', () => refused(json({ image: `${b64.slice(0, 8)}-_${b64.slice(10)}` }), 400, 'INVALID_BASE64'));
    test('whitespace inside', () => refused(json({ image: `${b64.slice(0, 76)}\n${b64.slice(76, -1)}` }), 400, 'INVALID_BASE64'));
    test('missing padding', () => refused(json({ image: 'iVBORw0KGgo' }), 400, 'INVALID_BASE64', /multiple of 4/));
    test('padding in the middle', () => refused(json({ image: `iVBO=w0KGgo=` }), 400, 'INVALID_BASE64', /"=" before the end/));
    test('a wrong length', () => refused(json({ image: b64.slice(0, -1) }), 400, 'INVALID_BASE64'));
    test('non-zero bits after the last byte', () => refused(json({ image: 'QR==' }), 400, 'INVALID_BASE64', /bits after its last byte/));
    test('empty', () => refused(json({ image: '' }), 400, 'INVALID_BASE64', /empty/));
    test('not a string', () => refused(json({ image: 12345 }), 400, 'INVALID_ARGUMENT'));
    test('no image member', () => refused(json({ max_faces: 1 }), 400, 'MISSING_IMAGE'));
  });

  describe('image type from the magic bytes', () => {
    const cases: Array<[string, Buffer]> = [
      ['HEIC', Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic\0\0\0\0mif1heic')])],
      ['HEIF', Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmif1\0\0\0\0mif1heic')])],
      ['AVIF', Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypavif\0\0\0\0mif1avif')])],
      ['GIF', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1')],
      ['WebP', Buffer.from('RIFF\x24\x00\x00\x00WEBPVP8 ', 'latin1')],
      ['BMP', Buffer.concat([Buffer.from('BM'), Buffer.alloc(40)])],
      ['TIFF', Buffer.from([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0])],
    ];
    for (const [name, bytes] of cases) {
      test(`${name} is named in a 415 (raw body, even labelled image/jpeg)`, () =>
        refused({ headers: { 'content-type': 'image/jpeg' }, body: bytes }, 415, 'UNSUPPORTED_IMAGE_FORMAT', new RegExp(`is a ${name} image`)));
      test(`${name} is named in a 415 (JSON)`, () => refused(json({ image: bytes.toString('base64') }), 415, 'UNSUPPORTED_IMAGE_FORMAT', new RegExp(name)));
    }
    test('bytes of no known format: 415', () => refused(rawPng(Buffer.from('hello, this is text')), 415, 'UNSUPPORTED_IMAGE_FORMAT', /not a JPEG or PNG/));
    test('a truncated PNG header: 400', () => refused(rawPng(fixture('coffee.png').subarray(0, 20)), 400, 'INVALID_IMAGE', /truncated or corrupt/));
    test('a JPEG cut before its frame header: 400', async () => refused(rawPng((await jpeg(100, 100)).subarray(0, 12)), 400, 'INVALID_IMAGE'));
    test('an empty raw body', () => refused(rawPng(Buffer.alloc(0)), 400, 'MISSING_IMAGE'));
  });

  describe('dimensions from the header, against 32..4096', () => {
    test('31 pixels wide', async () => refused(rawPng(await flatPng(31, 100)), 422, 'IMAGE_DIMENSIONS_UNSUPPORTED', /31×100/));
    test('4097 pixels high (JPEG)', async () => refused(rawPng(await jpeg(40, 4097)), 422, 'IMAGE_DIMENSIONS_UNSUPPORTED', /40×4097/));
    test('a PNG header claiming 100000×100000 is refused without decoding', async () => {
      const png = Buffer.from(await flatPng(64, 64));
      png.writeUInt32BE(100_000, 16);
      png.writeUInt32BE(100_000, 20);
      await refused(rawPng(png), 422, 'IMAGE_DIMENSIONS_UNSUPPORTED');
    });
    test('the edges are accepted', async () => {
      for (const [w, h] of [
        [32, 32],
        [4096, 32],
      ] as const) {
        const res = await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: await flatPng(w, h) });
        assert.equal(res.status, 200, `${w}×${h}`);
      }
    });
  });

  describe('max_faces 1..10', () => {
    for (const bad of [0, 11, 2.5, -1]) {
      test(`${bad} in JSON`, () => refused(json({ image: b64, max_faces: bad }), 400, 'INVALID_ARGUMENT', /"max_faces" must be an integer from 1 to 10/));
    }
    test('a string in JSON', () => refused(json({ image: b64, max_faces: '3' }), 400, 'INVALID_ARGUMENT', /max_faces/));
    test('in the query of a raw body', () => refused(rawPng(fixture('coffee.png'), '?max_faces=11'), 400, 'INVALID_ARGUMENT', /max_faces/));
    test('not a number in the query', () => refused(rawPng(fixture('coffee.png'), '?max_faces=many'), 400, 'INVALID_ARGUMENT', /max_faces/));
    test('twice in the query', () => refused(rawPng(fixture('coffee.png'), '?max_faces=1&max_faces=2'), 400, 'INVALID_ARGUMENT', /more than once/));
    test('in a multipart field', async () => {
      const form = new FormData();
      form.set('image', new Blob([fixture('coffee.png')]), 'coffee.png');
      form.set('max_faces', '0');
      await refused({ body: form }, 400, 'INVALID_ARGUMENT', /max_faces/);
    });
    test('an unknown field is named', () => refused(json({ image: b64, maxFaces: 2 }), 400, 'INVALID_ARGUMENT', /"maxFaces" is not a known field/));
    test('a bad option is refused before the image\'s base64 is decoded (it was decoded first: INVALID_BASE64)', () =>
      refused(json({ image: `${b64.slice(0, 100)}*${b64.slice(101)}`, max_faces: 0 }), 400, 'INVALID_ARGUMENT', /"max_faces" must be an integer from 1 to 10/));
    test('a bad query option beside a JSON body', () => refused(json({ image: b64 }, '?max_faces=20'), 400, 'INVALID_ARGUMENT', /max_faces/));
    test('a JSON body value wins over the query (Swagger UI sends both)', async () => {
      const res = await fetch(`${gw.url}/v1/keypoints?max_faces=2`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: b64, max_faces: 4 }) });
      assert.equal(res.status, 200);
      assert.equal(be.requests.at(-1)!.max_faces, 4);
      const fromQuery = await fetch(`${gw.url}/v1/keypoints?max_faces=3`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: b64 }) });
      assert.equal(fromQuery.status, 200);
      assert.equal(be.requests.at(-1)!.max_faces, 3);
    });
    test('accepted values reach the backend', async () => {
      const res = await fetch(`${gw.url}/v1/keypoints?max_faces=7`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: fixture('coffee.png') });
      assert.equal(res.status, 200);
      assert.equal(be.requests.at(-1)!.max_faces, 7);
    });
  });

  describe('JSON and body forms', () => {
    test('malformed JSON', () => refused({ headers: { 'content-type': 'application/json' }, body: '{"image": "abc' }, 400, 'INVALID_JSON'));
    test('an empty JSON body', () => refused({ headers: { 'content-type': 'application/json' }, body: '' }, 400, 'INVALID_JSON'));
    test('prototype poisoning', () =>
      refused({ headers: { 'content-type': 'application/json' }, body: `{"image": "${b64}", "__proto__": {"x": 1}}` }, 400, 'INVALID_JSON'));
    // Refused at its first key, before anything is built: "constructor" is not a field of the route.
    test('constructor.prototype poisoning', () =>
      refused({ headers: { 'content-type': 'application/json' }, body: `{"constructor": {"prototype": {"x": 1}}}` }, 400, 'INVALID_ARGUMENT', /"constructor" is not a known field/));
    test('a JSON array', () => refused(json([b64]), 400, 'INVALID_ARGUMENT', /object/));
    test('text/plain', () => refused({ headers: { 'content-type': 'text/plain' }, body: b64 }, 415, 'UNSUPPORTED_MEDIA_TYPE', /text\/plain/));
    test('no body at all', () => refused({}, 400, 'MISSING_IMAGE'));
    test('multipart without the image part', async () => {
      const form = new FormData();
      form.set('max_faces', '1');
      await refused({ body: form }, 400, 'MISSING_IMAGE');
    });
    test('multipart with the image as a text field', async () => {
      const form = new FormData();
      form.set('image', b64);
      await refused({ body: form }, 400, 'INVALID_ARGUMENT', /file part/);
    });
    test('multipart with a file under another name', async () => {
      const form = new FormData();
      form.set('photo', new Blob([fixture('coffee.png')]), 'coffee.png');
      await refused({ body: form }, 400, 'INVALID_ARGUMENT', /"photo"/);
    });
    test('multipart cut short', () =>
      refused(
        { headers: { 'content-type': 'multipart/form-data; boundary=XYZ' }, body: '--XYZ\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\nabc' },
        400,
        'INVALID_MULTIPART',
      ));
    test('multipart without a boundary', () => refused({ headers: { 'content-type': 'multipart/form-data' }, body: 'x' }, 400, 'INVALID_MULTIPART', /Boundary/));
  });

  describe('size limits (MAX_IMAGE_BYTES = 2 MiB here)', () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 0x41);
    test('a raw body over the limit: 413', () => refused(rawPng(big), 413, 'PAYLOAD_TOO_LARGE'));
    test('a JSON body over the base64 limit: 413', () => refused(json({ image: big.toString('base64') }), 413, 'PAYLOAD_TOO_LARGE'));
    test('a multipart file over the limit: 413', async () => {
      const form = new FormData();
      form.set('image', new Blob([big]), 'big.png');
      await refused({ body: form }, 413, 'PAYLOAD_TOO_LARGE');
    });
    test('the process keeps serving afterwards', async () => {
      const res = await fetch(`${gw.url}/v1/keypoints`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: fixture('coffee.png') });
      assert.equal(res.status, 200);
    });
  });
});
