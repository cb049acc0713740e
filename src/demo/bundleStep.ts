/**
 * The demo's 'bundle' step: the compressed student exported as one `.slim` file (slimtext export
 * --format bundle), loaded back by the dependency-free runtime (`slimtext/runtime`, what a browser
 * runs), its labels checked against slimtext's own on every test email, and its bytes and load time
 * said in one line.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSlimBundle } from '../io/slimBundle.js';
import { loadAnyModel } from '../models/anyModel.js';
import { loadDan } from '../models/dan.js';
import { argmaxRows } from '../models/inference.js';
import { loadBundle, singleTask } from '../runtime/index.js';
import type { DemoContext, DemoStep } from './pipeline.js';

export interface BundleReport {
  path: string;
  bytes: number;
  /** Milliseconds from the file's bytes to a model that answers. */
  load_ms: number;
  /** Share of test emails on which the runtime's label equals slimtext's. */
  agreement: number;
}

export const bundleStep: DemoStep = {
  id: 'bundle',
  shows: () => 'the one-file bundle: the compressed student as one .slim file, run by the dependency-free runtime (Node or a browser)',
  async run(ctx: DemoContext) {
    const dir = join(ctx.out, 'student-compressed');
    const path = join(ctx.out, 'student.slim');
    const bytes = await writeSlimBundle(path, await loadAnyModel(dir), { overwrite: true, source: dir });
    const file = new Uint8Array(await readFile(path));
    const t0 = performance.now();
    const slim = singleTask(await loadBundle(file));
    const loadMs = performance.now() - t0;
    const dan = await loadDan(dir);
    const texts = ctx.split!.test.map((e) => e.text);
    const own = argmaxRows(dan.predict(texts), dan.labels.length);
    const same = texts.filter((t, i) => slim.predict(t)[0]!.label === dan.labels[own[i]!]).length;
    const rep: BundleReport = { path, bytes, load_ms: Math.round(loadMs * 10) / 10, agreement: Math.round((same / Math.max(texts.length, 1)) * 1e4) / 1e4 };
    ctx.report.bundle = rep;
    ctx.log(`      ${path}: ${(bytes / 1024).toFixed(0)} KB, loaded by the runtime in ${rep.load_ms} ms; its label equals slimtext's on ${same} of ${texts.length} test emails`);
  },
};
