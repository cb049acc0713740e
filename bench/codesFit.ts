/**
 * How well each way of finding additive codes reconstructs a real embedding table: residual k-means
 * (each codebook quantises what the previous left) against codes learned jointly with
 * Gumbel-softmax (src/train/compress/gumbelCodes.ts), at the same M x K, side by side in one run.
 *
 *   npx tsx bench/codesFit.ts [--model ../shared/models/bert-l4-h128-mlm] [--books 16] [--bits 5] [--steps 1000,3000]
 *
 * Prints one JSON object: rows, dim, and per fit its relative squared error and seconds.
 */
import { parseArgs } from 'node:util';
import { readHfCheckpoint } from '../src/io/hfCheckpoint.js';
import { DenseNgramTable } from '../src/models/danTable.js';
import { compressTable, DEFAULT_SETTINGS } from '../src/train/compress/methods.js';

const { values } = parseArgs({ options: { model: { type: 'string', default: '../shared/models/bert-l4-h128-mlm' }, books: { type: 'string', default: '16' }, bits: { type: 'string', default: '5' }, steps: { type: 'string', default: '1000,3000' } } });
const ck = await readHfCheckpoint(values.model!);
const w = ck.weights.embeddings.word;
const [rows, dim] = w.shape as [number, number];
const table = new DenseNgramTable(rows, dim, { data: w.data });
const base = { ...DEFAULT_SETTINGS, codebooks: Number(values.books), codeBits: Number(values.bits) };
const fits: { fit: string; steps?: number; relative_sq_error: number; seconds: number }[] = [];
const run = (fit: 'kmeans' | 'gumbel', steps?: number) => {
  const t0 = performance.now();
  const c = compressTable(table, 'codes', { ...base, codesFit: fit, ...(steps ? { codesSteps: steps } : {}) });
  const r = c.toDense();
  let e = 0, n = 0;
  for (let i = 0; i < r.length; i++) {
    e += (r[i]! - w.data[i]!) ** 2;
    n += w.data[i]! ** 2;
  }
  fits.push({ fit, ...(steps ? { steps } : {}), relative_sq_error: Math.round((e / n) * 1e4) / 1e4, seconds: Math.round((performance.now() - t0) / 100) / 10 });
};
run('kmeans');
for (const s of values.steps!.split(',').map(Number)) run('gumbel', s);
console.log(JSON.stringify({ model: values.model, rows, dim, books: base.codebooks, words: 2 ** base.codeBits, fits }));
