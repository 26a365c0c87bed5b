/**
 * A real headless Chromium for the page tests and the dashboard bench: Debian's `chromium` (or LOCKSTEP_CHROMIUM) driven by
 * puppeteer-core; nothing downloads a browser. Where none is installed the page tests skip, and
 * `chromiumSkipReason` says why (printed once by the tests that skip).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';

export const CHROMIUM = process.env.LOCKSTEP_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p)) ?? null;

export const chromiumSkipReason: string | null =
  CHROMIUM === null ? 'no Chromium found (Debian: apt-get install chromium; or set LOCKSTEP_CHROMIUM to a Chrome/Chromium binary): the browser tests are skipped' : null;

/**
 * Flags for a closed network: without the background-networking ones Chromium keeps trying to
 * reach Google's hosts; the sandbox is off because CI runs as root.
 */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export async function launchChromium(): Promise<Browser> {
  const { launch } = await import('puppeteer-core');
  return launch({ executablePath: CHROMIUM!, args: FLAGS, headless: true });
}

/** Where page tests keep their screenshots (a CI artifact folder). */
export function artifactsDir(): string {
  const d = join(process.cwd(), 'test-artifacts');
  mkdirSync(d, { recursive: true });
  return d;
}
