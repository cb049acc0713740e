/**
 * The browser example in real headless Chromium: the page loads a bundle (DAN students over an
 * int8, an int4 and a norm-quantised PQ table, and a BERT classifier), and its predictions, of
 * every test text and of what is typed into the box, equal Node's runtime predictions. A screenshot of the page is kept in test-artifacts/.
 * Skips (saying why) when /usr/bin/chromium is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { loadAnyModel } from '../../src/models/anyModel.js';
import { encodeSlimBundle } from '../../src/io/slimBundle.js';
import { loadBundle, singleTask, type Scored } from '../../src/runtime/index.js';
import { chromiumMissing, launchChromium, serve } from './browser.js';
import { TEXTS, danFolder, tinyTransformerFolder } from './fixtures.js';

const ARTIFACTS = 'test-artifacts';
const RUNTIME = 'dist/runtime/slimtext-runtime.js';

test('the browser example predicts in headless Chromium exactly as Node does', { timeout: 180_000 }, async (t) => {
  const missing = chromiumMissing();
  if (missing) return t.skip(missing);
  assert.ok(existsSync(RUNTIME), `${RUNTIME} is missing: build it with npm run build:runtime (npm test does)`);
  const bundles = {
    'dan.slim': encodeSlimBundle(await loadAnyModel(await danFolder('int8'))),
    // int4 (int8 too) and norm-quantised PQ: their rows are summed in the runtime's kernel.
    'dan-int4.slim': encodeSlimBundle(await loadAnyModel(await danFolder('int4'))),
    'dan-qnorm.slim': encodeSlimBundle(await loadAnyModel(await danFolder('pq-qnorm'))),
    'bert.slim': encodeSlimBundle(await loadAnyModel(await tinyTransformerFolder('cls'))),
  };
  const server = await serve('.', bundles);
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    for (const [name, bytes] of Object.entries(bundles)) {
      const node = singleTask(await loadBundle(bytes));
      await page.goto(`${server.url}/examples/browser/index.html?model=/models/${name}`);
      await page.waitForFunction(() => (window as unknown as { slimtext?: unknown }).slimtext !== undefined, undefined, { timeout: 30_000 });
      const err = await page.evaluate(() => (window as unknown as { slimtext: { error?: string } }).slimtext.error);
      assert.equal(err, undefined, `the page could not load ${name}: ${err}`);
      const got = await page.evaluate((texts) => (window as unknown as { slimtext: { predictAll: (t: string[]) => Scored[][] } }).slimtext.predictAll(texts), TEXTS);
      TEXTS.forEach((text, i) => {
        const want = node.predict(text);
        assert.deepEqual(got[i]!.map((p) => p.label), want.map((p) => p.label), `${name}, text ${i}: label order`);
        got[i]!.forEach((p, k) => assert.ok(Math.abs(p.score - want[k]!.score) < 1e-12, `${name}, text ${i}: ${p.score} vs ${want[k]!.score}`));
      });
      // What a user types: the table shows Node's top label.
      const typed = 'book a table for two';
      await page.fill('#text', typed);
      await page.waitForFunction((label) => document.querySelector('#out td.label')?.textContent === label, node.predict(typed)[0]!.label, { timeout: 10_000 });
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}/browser-${name.replace('.slim', '')}.png`, fullPage: true });
    }
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
