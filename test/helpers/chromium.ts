import { chromium, type Browser } from 'playwright-core';
import { findTool, requireTool } from './tools.js';

/** A test's `skip` option: Debian's `chromium` is needed. */
export const NO_CHROMIUM = requireTool('chromium', 'chromium');

/** Headless, with the flags this closed network needs (no background fetches to refuse). */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: findTool('chromium'),
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
