/**
 * A rendered report checked in a real browser: Debian's chromium at /usr/bin/chromium, driven
 * headless by playwright-core (which never downloads a browser). The page must load from disk with
 * no console errors and no network requests, every chart must have marks, and a screenshot is
 * kept in test-artifacts/ (gitignored) for a person to look at.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildModelReport, writeReport } from '../../src/eval/report/index.js';
import { repoRoot } from '../helpers.js';
import { tempDir } from '../train/fixtures.js';
import { reportModels } from './reportFixtures.js';

export const CHROMIUM = process.env.SLIMTEXT_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const skip = existsSync(CHROMIUM) ? false : `needs Chromium at ${CHROMIUM} (Debian package chromium; set SLIMTEXT_CHROMIUM to use another binary)`;

export interface PageCheck {
  consoleErrors: string[];
  requests: string[];
  /** Data marks (elements inside Vega's role-mark groups) per chart section id. */
  marks: Record<string, number>;
}

/** Opens `html` in headless Chromium, screenshots it to `screenshot`, and returns what it saw. */
export async function checkInChromium(html: string, screenshot: string): Promise<PageCheck> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'slimtext-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS], viewport: { width: 1200, height: 900 },
  });
  try {
    const page = await context.newPage();
    const url = pathToFileURL(html).href;
    const consoleErrors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('request', (r) => {
      if (r.url() !== url) requests.push(r.url());
    });
    await page.goto(url, { waitUntil: 'load' });
    const marks = await page.evaluate(() => {
      const out: Record<string, number> = {};
      for (const s of Array.from(document.querySelectorAll('section.chart'))) {
        out[s.id] = s.querySelectorAll('svg .role-mark path, svg .role-mark rect, svg .role-mark line, svg .role-mark text').length;
      }
      return out;
    });
    await page.screenshot({ path: screenshot, fullPage: true });
    return { consoleErrors, requests, marks };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

test('a report opens in headless Chromium: no console errors, no requests, marks in every chart, a screenshot', { skip, timeout: 180_000 }, async () => {
  const m = await reportModels();
  const html = join(tempDir('slimtext-report-chromium-'), 'report.html');
  const report = await buildModelReport({ models: [m.transformer, m.dan], data: m.evalFile, measureSeconds: 0.05, latencyTexts: 10 });
  await writeReport(html, report);
  const artifacts = join(repoRoot, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  const shot = join(artifacts, 'report.png');
  rmSync(shot, { force: true });
  const seen = await checkInChromium(html, shot);
  assert.deepEqual(seen.consoleErrors, [], 'no console errors');
  assert.deepEqual(seen.requests, [], 'no requests beyond the file itself');
  assert.deepEqual(Object.keys(seen.marks), report.charts.map((c) => `chart-${c.id}`));
  for (const [id, n] of Object.entries(seen.marks)) assert.ok(n > 0, `${id} has marks (${n})`);
  assert.ok(statSync(shot).size > 10_000, 'screenshot written');
});

test('the bench reports in docs/bench open in headless Chromium with marks in every chart', { skip, timeout: 180_000 }, async () => {
  const { buildBenchReport } = await import('../../src/eval/report/index.js');
  const docs = join(repoRoot, 'docs', 'bench');
  const artifacts = join(repoRoot, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  for (const name of ['finetune-seed0-2026-11-21', 'distill-2026-11-21']) {
    const html = join(tempDir('slimtext-report-chromium-'), `${name}.html`);
    const report = buildBenchReport(join(docs, `${name}.json`));
    await writeReport(html, report);
    const seen = await checkInChromium(html, join(artifacts, `${name}.png`));
    assert.deepEqual(seen.consoleErrors, [], `${name}: no console errors`);
    assert.deepEqual(seen.requests, [], `${name}: no requests`);
    assert.equal(Object.keys(seen.marks).length, report.charts.length);
    for (const [id, n] of Object.entries(seen.marks)) assert.ok(n > 0, `${name} ${id} has marks (${n})`);
  }
});
