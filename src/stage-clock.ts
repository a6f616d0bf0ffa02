/** Where a request's time goes, in order. Multipart bodies are read by the route: their reading counts as decode. */
export const STAGES = ['receive', 'decode', 'validate', 'rpc', 'encode'] as const;
export type Stage = (typeof STAGES)[number];

/** Splits a request's time into stages: each `enter` closes the stage before it. */
export class StageClock {
  readonly ms: Partial<Record<Stage, number>> = {};
  private current: Stage | undefined = 'receive';
  private since = performance.now();

  enter(stage: Stage | undefined): void {
    const now = performance.now();
    if (this.current) this.ms[this.current] = (this.ms[this.current] ?? 0) + (now - this.since);
    this.current = stage;
    this.since = now;
  }

  /** Closes the stage in progress; the answer is sent. */
  end(): Partial<Record<Stage, number>> {
    this.enter(undefined);
    return this.ms;
  }
}

