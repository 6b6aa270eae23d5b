import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from './stack';

/** Debian's Chromium (`apt-get install -y chromium`, which scripts/test.sh does when it is missing), or CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless Chromium driven by playwright-core; as root it cannot sandbox itself. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: run the tests with "npm test" (it installs it), apt-get install -y chromium, or set CHROMIUM_PATH`,
    );
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

/** PORTRAIT_SCREENSHOTS=1: the README's pictures of the console, written to docs/console/<name>.png. */
export const SCREENSHOTS = process.env.PORTRAIT_SCREENSHOTS === '1';
const SCREENSHOT_DIR = path.join(REPO_ROOT, 'docs/console');

export async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true, animations: 'disabled' });
}

/** "1,234 profiles" -> 1234. */
export const numberIn = (text: string | null): number => Number((/[\d,]+/.exec(text ?? '')?.[0] ?? 'NaN').replace(/,/g, ''));
