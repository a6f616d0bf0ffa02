/** What a request asked for in `Prefer` (RFC 7240): to be answered asynchronously, and how long it would wait. */
export interface Preferences {
  respondAsync: boolean;
  /** Seconds, when `wait=N` was given. */
  wait?: number;
}

/**
 * Reads `Prefer` headers (one or several, comma-separated preferences, each `token[=value]`
 * with optional `;parameters`, tokens case-insensitive, values maybe quoted). A few lines,
 * since no maintained npm package parses this header.
 */
export function parsePrefer(header: string | string[] | undefined): Preferences {
  const out: Preferences = { respondAsync: false };
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  for (const preference of values.flatMap((v) => v.split(','))) {
    const [pair = ''] = preference.split(';');
    const eq = pair.indexOf('=');
    const token = (eq < 0 ? pair : pair.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : pair.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    if (token === 'respond-async') out.respondAsync = true;
    // RFC 7240: the first occurrence of a preference wins.
    else if (token === 'wait' && out.wait === undefined && /^\d{1,9}$/.test(value)) out.wait = Number(value);
  }
  return out;
}
