// /metrics with WORKERS > 1: each worker has its own registry, and a scrape that lands on any
// worker must answer for all of them. prom-client's AggregatorRegistry gathers the workers'
// registries in the primary; a worker asks the primary for that over the cluster's IPC channel.
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const ASK = 'visiongate:metrics?';
const ANSWER = 'visiongate:metrics!';

interface Answer {
  type: typeof ANSWER;
  id: number;
  body?: string;
  error?: string;
}

/** In the primary: answers workers' scrapes with every worker's metrics, aggregated. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: string; id: number }) => {
    if (message?.type !== ASK) return;
    aggregator.clusterMetrics().then(
      (body) => worker.send({ type: ANSWER, id: message.id, body } satisfies Answer),
      (err: Error) => worker.send({ type: ANSWER, id: message.id, error: err.message } satisfies Answer),
    );
  });
}

let next = 0;
const waiting = new Map<number, { resolve(body: string): void; reject(err: Error): void }>();

/** In a worker: offers `registry` to the primary's aggregation, and returns the scrape that asks for the whole. */
export function clusterScrape(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries(registry);
  // Constructed for its side effect: it installs the worker's answer to the primary's requests.
  new AggregatorRegistry();
  process.on('message', (message: Answer) => {
    if (message?.type !== ANSWER) return;
    const pending = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error !== undefined) pending?.reject(new Error(message.error));
    else pending?.resolve(message.body ?? '');
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      process.send!({ type: ASK, id });
    });
}
