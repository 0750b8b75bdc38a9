/**
 * A headless Chromium for looking at the timeline page (timeline-html.ts): Debian's package (`apt-get install
 * chromium`, /usr/bin/chromium) driven by playwright-core, since no browser can be downloaded here (`npx playwright
 * install` cannot run). Used by `npm run test:browser`, and for the README's picture of the walk-through.
 *
 * `npx tsx tools/local/browser.ts <page.html> <out.png>` writes a PNG of the page.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a quiet, offline, throwaway browser: no GPU, no network of its own, no first-run or sync. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface OpenedPage {
  readonly page: Page;
  close(): Promise<void>;
}

/** Opens a local HTML file in a fresh headless Chromium (its own profile directory, removed on close). */
export async function openInChromium(
  file: string,
  viewport = { width: 1400, height: 900 },
): Promise<OpenedPage> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'timeline-chromium-'));
  // A profile directory is a persistent context in Playwright (launch() refuses --user-data-dir).
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(pathToFileURL(resolve(file)).href);
    return {
      page,
      close: async () => {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}

/** A PNG of the whole page. */
export async function screenshot(file: string, png: string): Promise<void> {
  const opened = await openInChromium(file, { width: 1100, height: 700 });
  try {
    await opened.page.screenshot({ path: png, fullPage: true });
  } finally {
    await opened.close();
  }
}

if (require.main === module) {
  const [html, png] = process.argv.slice(2);
  if (!html || !png) {
    console.error('Usage: npx tsx tools/local/browser.ts <page.html> <out.png>');
    process.exitCode = 1;
  } else {
    screenshot(html, png).then(
      () => console.log(`Screenshot written to ${png}`),
      (error: unknown) => {
        console.error(error instanceof Error ? error.message : String(error));
        process.exitCode = 1;
      },
    );
  }
}
