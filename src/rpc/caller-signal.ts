/**
 * What a backend call needs to know of its caller's going: the part of AbortSignal it uses, so a
 * real AbortSignal (a canceled job's) is one.
 */
export interface CallerSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A request's "its client went away", made for every request and almost never fired. Written
 * by hand because Node 20 makes an AbortSignal by re-prototyping an EventTarget: 6–9 µs a
 * signal with a listener in a microbenchmark, and with one per request the gateway spent 1.8×
 * the CPU on a keypoint request, most of it in the collector (docs/performance.md). Every
 * listener is called once, on the first abort; one added after it is not (as AbortSignal).
 */
export class CallerGoneSignal implements CallerSignal {
  aborted = false;
  private listeners: (() => void)[] = [];

  addEventListener(_type: 'abort', listener: () => void, _options?: { once?: boolean }): void {
    if (!this.aborted) this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const i = this.listeners.indexOf(listener);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}
