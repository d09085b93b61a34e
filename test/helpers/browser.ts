import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core; browsers are never downloaded. */
export const CHROMIUM_PATH = process.env['HERALD_CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * Why browser tests cannot run here, or null when they can. In CI a missing browser is a
 * failure (.ci/run installs it); on a developer machine the tests say what to install.
 */
export function browserUnavailable(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  if (process.env['CI']) throw new Error(`${CHROMIUM_PATH} is missing; .ci/run installs Debian's chromium package`);
  return `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
