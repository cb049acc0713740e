/**
 * The demo's 'compress' step: the DAN student's n-gram table pruned to the rows that matter most
 * and product-quantised, task-aware (the k-means fits weigh rows by their use in the training
 * emails, then the code books train jointly with the layers on them), through the same library
 * call as `slimtext compress`. Both students are scored on the test emails side by side.
 */
import { join } from 'node:path';
import { compressModel } from '../train/compress/compress.js';
import { loadDan } from '../models/dan.js';
import { argmaxRows } from '../models/inference.js';
import type { DemoContext, DemoStep } from './pipeline.js';

export interface CompressSettingsOfDemo {
  /** `slimtext compress --method`. */
  methods: string;
  /** Rows kept by pruning (ranked by norm). */
  keep: number;
  /** PQ sub-vector width and bits per code. */
  pqDsub: number;
  pqBits: number;
  /** Joint training epochs and learning rate. */
  epochs: number;
  lr: number;
}

export interface CompressedReport {
  methods: string;
  mode: string;
  bytes_before: number;
  bytes_after: number;
  embedding_bytes_before: number;
  embedding_bytes_after: number;
  /** Size on disk after / before. */
  ratio: number;
  ngrams_before: number;
  ngrams_after: number;
  /** Test accuracy of the student and of its compressed form. */
  accuracy_before: number;
  accuracy_after: number;
  seconds: number;
}

export const compressStep: DemoStep = {
  id: 'compress',
  shows: (ctx) => {
    const c = ctx.settings.compress;
    return `compression: the student's n-gram table pruned to ${c.keep.toLocaleString('en-US')} rows and product-quantised (${c.pqBits}-bit codes per ${c.pqDsub} dims), task-aware on the training emails: bytes against accuracy`;
  },
  async run(ctx) {
    const c = ctx.settings.compress;
    const src = join(ctx.out, 'student');
    const dir = join(ctx.out, 'student-compressed');
    const r = await compressModel({
      model: src, methods: c.methods, mode: 'joint', train: ctx.files.train, dev: ctx.files.dev, out: dir, overwrite: true,
      settings: { pruneKeep: c.keep, pqDsub: c.pqDsub, pqBits: c.pqBits, seed: ctx.settings.seed }, epochs: c.epochs, lr: c.lr,
    });
    const before = await loadDan(src);
    const after = await loadDan(dir);
    const test = ctx.split!.test;
    const acc = (logits: Float32Array, labels: readonly string[]) => {
      const p = argmaxRows(logits, labels.length);
      return test.filter((e, i) => labels[p[i]!] === e.label).length / Math.max(test.length, 1);
    };
    const texts = test.map((e) => e.text);
    const accBefore = acc(before.predict(texts), before.labels);
    const accAfter = acc(after.predict(texts), after.labels);
    const rep: CompressedReport = {
      methods: r.methods.join(','), mode: r.mode,
      bytes_before: r.before.bytes_on_disk, bytes_after: r.after.bytes_on_disk,
      embedding_bytes_before: r.before.embedding_bytes, embedding_bytes_after: r.after.embedding_bytes,
      ratio: round(r.after.bytes_on_disk / r.before.bytes_on_disk, 4),
      ngrams_before: before.vocab.size, ngrams_after: after.vocab.size,
      accuracy_before: round(accBefore, 4), accuracy_after: round(accAfter, 4), seconds: round(r.seconds, 1),
    };
    ctx.report.compressed = rep;
    ctx.models.push({ name: 'student, compressed', dir });
    ctx.log(`      ${mb(rep.bytes_before)} -> ${mb(rep.bytes_after)} on disk (x${(1 / rep.ratio).toFixed(1)} smaller; ${rep.ngrams_before.toLocaleString('en-US')} -> ${rep.ngrams_after.toLocaleString('en-US')} n-grams), ` +
      `test accuracy ${accBefore.toFixed(4)} -> ${accAfter.toFixed(4)}, ${rep.seconds} s`);
  },
};

function mb(b: number): string {
  return b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(2)} MB` : `${(b / 1024).toFixed(0)} KB`;
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

export type { DemoContext };
