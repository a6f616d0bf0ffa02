// Reading the deployment files (compose, Kubernetes, systemd) the way their tools do, for the
// tests that check them against the gateway's own configuration.
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);

/** A file of the repository, by its path from the root. */
export const readRepoFile = (path: string) => readFileSync(new URL(path, root), 'utf8');
export const repoPath = (path: string) => new URL(path, root).pathname;

// Binary multiples all: compose's "2g", Kubernetes' "2Gi", Redis' "384mb" (Redis' "mb" is 1024²).
// Kubernetes' decimal "2G" and milli "m" are not used in deploy/, and not accepted here.
const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, Ki: 1024, m: 1024 ** 2, mb: 1024 ** 2, Mi: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, Gi: 1024 ** 3 };

/** Bytes of a size as compose ("2g"), Kubernetes ("2Gi") and Redis ("384mb") write it. */
export function bytes(size: string): number {
  const m = /^(\d+(?:\.\d+)?)([a-zA-Z]*)$/.exec(size.trim());
  const factor = m ? BYTE_UNITS[m[2]!] : undefined;
  if (!m || factor === undefined) throw new Error(`not a size: ${size}`);
  return Number(m[1]) * factor;
}

/** Milliseconds of a duration as compose ("45s", "1m30s") and systemd ("45s", "2min", "45") write it. */
export function milliseconds(duration: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, min: 60_000, h: 3_600_000 };
  let total = 0;
  const rest = duration.trim().replace(/(\d+(?:\.\d+)?)\s*(ms|min|s|m|h|)/g, (_all, n: string, unit: string) => {
    total += Number(n) * units[unit]!;
    return '';
  });
  if (rest.trim() !== '' || duration.trim() === '') throw new Error(`not a duration: ${duration}`);
  return total;
}
