/** Characters of a backend's text kept in a log line; the rest is counted, not written. */
export const BACKEND_TEXT_MAX_CHARS = 1024;

/**
 * Control, format and unpaired surrogate characters: a terminal would obey ANSI escapes and
 * CR/LF (forged log lines), bidi overrides reorder what a person reads.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;

/**
 * Text a backend sent (an exception message, a StatusMessage, a method name), made fit for a
 * log line: at most ~1 KiB of it, unsafe characters written as \u escapes. Never for a
 * partner's answer: those are in the gateway's own words.
 */
export function backendText(text: string): string {
  const kept = text.length > BACKEND_TEXT_MAX_CHARS ? text.slice(0, BACKEND_TEXT_MAX_CHARS) : text;
  const safe = kept.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.length > kept.length ? `${safe}… (${text.length - kept.length} more characters)` : safe;
}
