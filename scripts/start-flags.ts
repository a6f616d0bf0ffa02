import { readFileSync } from 'node:fs';

/**
 * The node flags `npm start` runs the gateway with, read from package.json's start script (the
 * Dockerfile's CMD and the systemd unit are tested to match it), so that the bench, the tests
 * and measure:memory start the gateway as production does.
 */
export const START_FLAGS: readonly string[] = (() => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  const flags = /^exec node (.*) dist\/server\.js$/.exec(pkg.scripts.start)?.[1];
  if (flags === undefined) throw new Error(`package.json's start script is not "exec node <flags> dist/server.js": ${pkg.scripts.start}`);
  return flags.split(' ');
})();
