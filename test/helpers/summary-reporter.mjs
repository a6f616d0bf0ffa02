// `npm test`'s last lines: one per skipped test or suite (what it needs, from its skip reason;
// Node's own summary does not count skipped suites), then the run's summary on one line.
// A reporter for Node's test runner (--test-reporter), beside the spec reporter. JavaScript,
// not TypeScript: Node loads reporters before tsx's loader is registered.

/** @param {AsyncIterable<import('node:test/reporters').TestEvent>} source */
export default async function* summary(source) {
  const skipped = [];
  const counts = new Map();
  for await (const event of source) {
    if (event.type === 'test:pass' || event.type === 'test:fail') {
      const { name, skip, file } = event.data;
      if (skip !== undefined && skip !== false) {
        const where = file ? `${file.replace(`${process.cwd()}/`, '')}: ` : '';
        skipped.push(`skipped: ${where}${name}${typeof skip === 'string' ? `: ${skip}` : ''}`);
      }
    } else if (event.type === 'test:diagnostic' && event.data.nesting === 0) {
      const m = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) (\S+)$/.exec(event.data.message);
      if (m) counts.set(m[1], m[2]);
    }
  }
  for (const line of skipped) yield `${line}\n`;
  const n = (k) => counts.get(k) ?? '?';
  const seconds = Math.round(Number(counts.get('duration_ms') ?? 0) / 1000);
  yield `summary: ${n('tests')} tests, ${n('pass')} passed, ${n('fail')} failed, ${n('cancelled')} cancelled, ${skipped.length} skipped (tests and suites), ${seconds} s\n`;
}
