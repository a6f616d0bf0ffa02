/**
 * Benchmark mode of a reference backend (`--precomputed`, never the default): the first call
 * of each method is computed for real, and every later call gets that same answer at once,
 * so that a benchmark measures the gateway and not the CPU reconstruction behind it.
 */
export function answerWithFirstResult<H extends object>(handler: H): H {
  const first = new Map<string, Promise<unknown>>();
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(handler)) {
    if (typeof method !== 'function') continue;
    // One declared parameter: the generated processors call a handler of arity 1 promise-style.
    wrapped[name] = (request: unknown) => {
      let answer = first.get(name);
      if (!answer) {
        answer = Promise.resolve(method.call(handler, request));
        first.set(name, answer);
        // A failed first call is not kept: the next one computes again.
        answer.catch(() => first.delete(name));
      }
      return answer;
    };
  }
  return wrapped as H;
}
