import { createRequire } from 'node:module';

interface DicerPart {
  prependOnceListener(event: 'end', listener: () => void): unknown;
}
interface Dicer {
  _pause: boolean;
  _unpause(): void;
  _oninfo(isMatch: boolean, data: Buffer | undefined, start: number | undefined, end: number | undefined): void;
  emit(event: string, ...args: unknown[]): boolean;
  [LAST_PART]?: DicerPart;
}

const LAST_PART = Symbol('the part being parsed');
// The copy @fastify/multipart itself loads, wherever npm put it.
const fromMultipart = createRequire(createRequire(import.meta.url).resolve('@fastify/multipart'));
const Dicer = fromMultipart('@fastify/busboy/deps/dicer/lib/Dicer.js') as { prototype: Dicer };

/*
 * A fix for @fastify/busboy 3.2.6 (the latest release), the multipart parser under
 * @fastify/multipart. A part it skips (no `Content-Disposition: form-data`, or past a limit) is
 * resumed without a reader, so its data is buffered; when more than 16 KiB of it arrive in the
 * write that also holds the part's end, the parser holds that write until the part is read
 * further, which never happens to a stream that has ended. The form then never ends: the
 * request was never answered, and its bytes stayed counted in MAX_INFLIGHT_REQUEST_BYTES for
 * as long as its client kept the connection (found by a hostile-input probe; every route that
 * takes multipart). Here the held write is let go as soon as such a part has drained, before
 * the parser counts it as done (which may end the form: a write still held then is never let go).
 */
const emit = Dicer.prototype.emit;
Dicer.prototype.emit = function (this: Dicer, event: string, ...args: unknown[]) {
  if (event === 'part' || event === 'preamble') this[LAST_PART] = args[0] as DicerPart;
  return emit.call(this, event, ...args);
};
const onInfo = Dicer.prototype._oninfo;
Dicer.prototype._oninfo = function (this: Dicer, isMatch, data, start, end) {
  onInfo.call(this, isMatch, data, start, end);
  // A boundary ends the part being parsed; a write held for it waits on that part's reader.
  if (isMatch && this._pause && this[LAST_PART]) this[LAST_PART].prependOnceListener('end', () => this._unpause());
};
