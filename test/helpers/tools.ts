// Programs some tests drive (redis-server, nginx, chromium, ...): found on PATH, or the test is
// skipped with one line saying what it needs. CI (`.ci/run`) installs them all and sets
// VG_REQUIRE_ALL=1, which turns a missing program into a failure, so nothing is skipped there.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The program's path on PATH, or undefined. */
export function findTool(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/**
 * For a test's or suite's `skip` option: false where every program is on PATH, else the reason
 * to skip (what is missing and the Debian packages that give it). Under VG_REQUIRE_ALL=1 a
 * missing program throws instead, failing the test file.
 */
export function requireTools(tools: Record<string, string>): string | false {
  const missing = Object.keys(tools).filter((name) => !findTool(name));
  if (missing.length === 0) return false;
  const packages = [...new Set(missing.map((name) => tools[name]))].join(' ');
  const reason = `needs ${missing.join(', ')} (apt-get install ${packages})`;
  if (process.env.VG_REQUIRE_ALL === '1') throw new Error(`VG_REQUIRE_ALL=1 and this test ${reason}`);
  return reason;
}

/** requireTools for one program, `debianPackage` being what installs it. */
export const requireTool = (name: string, debianPackage: string): string | false => requireTools({ [name]: debianPackage });
