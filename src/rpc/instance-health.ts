export interface EjectionPolicy {
  /** Consecutive failed calls (timeouts, broken protocol, lost connections) that eject an instance. */
  afterFailures: number;
  /** First ejection's length; each further one in a row doubles it, up to `maxMs`. */
  baseMs: number;
  maxMs: number;
}

export const INSTANCE_STATES = ['up', 'ejected', 'half-open'] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

/**
 * Outlier ejection for one backend instance. Failing `afterFailures` times in a row (or
 * refusing a connection once: nothing is listening) ejects it for a backoff that doubles
 * while it keeps failing; when the backoff is over it is half-open and gets one probe call,
 * whose outcome brings it back or ejects it again for longer.
 */
export class InstanceHealth {
  private failures = 0;
  private ejections = 0;
  private until = 0;
  private probing = false;

  constructor(
    private readonly policy: EjectionPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  state(): InstanceState {
    if (this.until === 0) return 'up';
    return this.now() < this.until ? 'ejected' : 'half-open';
  }

  /** Whether a call may go here now: a half-open instance takes one probe at a time. */
  admits(): boolean {
    const state = this.state();
    return state === 'up' || (state === 'half-open' && !this.probing);
  }

  /** Milliseconds until an ejected instance is half-open again (0 when it is not ejected). */
  msUntilRetry(): number {
    return this.state() === 'ejected' ? this.until - this.now() : 0;
  }

  /** Whether a probe call is in flight. */
  get probeInFlight(): boolean {
    return this.probing;
  }

  /** `force`: let an ejected instance take a probe now (every instance of the backend is ejected). */
  callStarted(force = false): void {
    if (this.state() === 'half-open' || (force && this.state() === 'ejected')) this.probing = true;
  }

  succeeded(): void {
    this.failures = 0;
    this.ejections = 0;
    this.until = 0;
    this.probing = false;
  }

  /** A call ended in a way that says nothing about the instance (e.g. it was shed before sending). */
  inconclusive(): void {
    this.probing = false;
  }

  /** Records a failed call; returns the ejection's length when this failure ejected the instance. */
  failed(refused: boolean): number | undefined {
    const wasProbe = this.probing;
    this.probing = false;
    // Calls that started before the ejection say nothing new.
    if (this.state() === 'ejected') return undefined;
    this.failures++;
    if (!refused && !wasProbe && this.failures < this.policy.afterFailures) return undefined;
    this.failures = 0;
    this.ejections++;
    const ms = Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** (this.ejections - 1));
    this.until = this.now() + ms;
    return ms;
  }
}
