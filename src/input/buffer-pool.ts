/**
 * Big payload buffers, reused from one request to the next. A fresh 20 MB buffer per request
 * is 20 MB of external memory that V8 frees only at its next full collection: under load the
 * bodies of answered requests pile up (the RSS per request in flight grows past the payload's
 * few copies) and the collections that free them pause the event loop. A buffer returned here
 * when its request is answered serves the next one instead.
 */
export class BufferPool {
  /** Idle buffers, by capacity. */
  private idle: Array<{ buffer: Buffer; since: number }> = [];
  private idleBytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    /** Smaller payloads are allocated as usual. */
    readonly minBytes: number,
    /** Idle bytes kept at most; past it, returned buffers are left to the collector. */
    private readonly maxIdleBytes: number,
    /** An idle buffer unused this long is dropped, so that a burst does not hold memory for good. */
    private readonly idleMs: number,
  ) {
    this.timer = setInterval(() => this.trim(Date.now() - this.idleMs), Math.max(1000, idleMs / 2));
    this.timer.unref();
  }

  /**
   * A buffer of `size` bytes, and the function that gives it back. The smallest idle buffer
   * that fits is taken, when it is not more than a quarter larger than the size rounded up to
   * a whole MiB, or to 64 KiB under a MiB (a 200 MB buffer is not held for a 2 MB body, nor
   * a MiB for a 100 KB photo); otherwise a new one of that rounded size.
   */
  lease(size: number): { buffer: Buffer; release(): void } {
    if (size < this.minBytes) return { buffer: Buffer.allocUnsafe(size), release: () => undefined };
    const unit = size < MiB ? 64 * KiB : MiB;
    const rounded = Math.ceil(size / unit) * unit;
    const at = this.idle.findIndex((e) => e.buffer.length >= size && e.buffer.length <= rounded * 1.25);
    let whole: Buffer;
    if (at >= 0) {
      whole = this.idle.splice(at, 1)[0]!.buffer;
      this.idleBytes -= whole.length;
    } else {
      whole = Buffer.allocUnsafe(rounded);
    }
    let released = false;
    return {
      buffer: whole.subarray(0, size),
      release: () => {
        if (released) return;
        released = true;
        this.giveBack(whole);
      },
    };
  }

  get idleBufferBytes(): number {
    return this.idleBytes;
  }

  close(): void {
    clearInterval(this.timer);
    this.trim(Infinity);
  }

  private giveBack(buffer: Buffer): void {
    if (this.idleBytes + buffer.length > this.maxIdleBytes) return;
    const at = this.idle.findIndex((e) => e.buffer.length >= buffer.length);
    this.idle.splice(at < 0 ? this.idle.length : at, 0, { buffer, since: Date.now() });
    this.idleBytes += buffer.length;
  }

  private trim(before: number): void {
    this.idle = this.idle.filter((e) => {
      if (e.since >= before) return true;
      this.idleBytes -= e.buffer.length;
      return false;
    });
  }
}

const KiB = 1024;
const MiB = 1024 * KiB;
