#!/usr/bin/env node
// Screenshot of a slimtext report in Debian's headless Chromium (playwright-core, a dev dependency,
// pointed at /usr/bin/chromium: nothing is downloaded). Makes the README's docs/report.png:
//   node scripts/screenshot-report.mjs DEMO_OUT/report.html docs/report.png [WIDTH] [HEIGHT]
// HEIGHT 0 takes the whole page.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [html, png, width = '1000', height = '1400'] = process.argv.slice(2);
if (!html || !png) {
  console.error('usage: node scripts/screenshot-report.mjs REPORT.html OUT.png [WIDTH] [HEIGHT]');
  process.exit(2);
}
const profile = mkdtempSync(join(tmpdir(), 'slimtext-chromium-'));
const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.SLIMTEXT_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: flags, viewport: { width: Number(width), height: Number(height) || 900 },
});
try {
  const page = await ctx.newPage();
  await page.goto(pathToFileURL(resolve(html)).href, { waitUntil: 'load' });
  await page.screenshot({ path: png, fullPage: Number(height) === 0 });
  console.log(`wrote ${png}`);
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
