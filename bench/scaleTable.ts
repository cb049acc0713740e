/**
 * Distillation at scale, memory part (JSON on stdout): a DAN student whose n-gram table is 1M rows
 * x dimension 1000 (1B parameters in the table), trained by pure distillation (KL on teacher
 * logits) for a few epochs of a synthetic transfer set with Zipf-distributed n-gram ids, one
 * thread. Reports peak resident memory: the float32 table is 4 GB and fully written by its
 * initialisation; the lazy Adam moments (2 x 4 GB allocated zeroed) are only touched for the rows
 * a batch updates, so the OS backs just those pages; no f16 storage is needed to fit.
 *
 * Usage: npx tsx bench/scaleTable.ts [--rows 1000000] [--dim 1000] [--texts 20000] [--epochs 1]
 */
import { cpus } from 'node:os';
import { getBackend, Rng } from '../src/engine/index.js';
import { DanModel } from '../src/models/dan.js';
import { distillDan, DEFAULT_DISTILL_RECIPE } from '../src/train/distill/sparseDistill.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const rows = Number(opt('rows', '1000000'));
const dim = Number(opt('dim', '1000'));
const n = Number(opt('texts', '20000'));
const epochs = Number(opt('epochs', '1'));
const C = 2;
getBackend().setThreads(1);
const gib = (b: number) => Math.round((b / 2 ** 30) * 100) / 100;
const rss0 = process.memoryUsage().rss;
const t0 = performance.now();
const model = new DanModel({ rows, dim, hidden: 200, numLabels: C, dropIds: 0.1 }, { seed: 0 });
const initSeconds = (performance.now() - t0) / 1000;
const rssModel = process.memoryUsage().rss;
// ~40 ids per text (a sentence's 1-4-grams), Zipf-like: frequent n-grams are shared, the tail is long.
const rng = new Rng(1);
const per = 40;
const ids = new Int32Array(n * per);
for (let i = 0; i < ids.length; i++) ids[i] = Math.min(rows - 1, Math.floor(Math.exp(rng.next() * Math.log(rows))) - 1);
const offsets = Int32Array.from({ length: n + 1 }, (_, i) => i * per);
const logits = new Float32Array(n * C);
for (let i = 0; i < logits.length; i++) logits[i] = rng.normal();
const t1 = performance.now();
const r = await distillDan(model, { transfer: { bags: { ids, offsets }, logits } }, { ...DEFAULT_DISTILL_RECIPE, epochs, workers: 1 });
const trainSeconds = (performance.now() - t1) / 1000;
const touched = new Set(ids).size;
console.log(JSON.stringify({
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, backend: getBackend().name },
  table: { rows, dim, parameters: rows * dim, f32_gib: gib(rows * dim * 4), adam_moments_allocated_gib: gib(rows * dim * 8) },
  transfer_texts: n, ids_per_text: per, distinct_rows_touched: touched, epochs,
  init_seconds: Math.round(initSeconds * 10) / 10,
  train_seconds: Math.round(trainSeconds * 10) / 10,
  texts_per_s: Math.round((n * epochs) / trainSeconds),
  loss_by_epoch: r.history.map((h) => Math.round(h.loss * 1e4) / 1e4),
  rss_gib: { start: gib(rss0), after_init: gib(rssModel), peak: gib(process.resourceUsage().maxRSS * 1024) },
}, null, 2));
