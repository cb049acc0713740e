/**
 * Vocabulary pruning of a DAN student (fastText's `-cutoff`): keep the n-grams the task needs most
 * (largest row norm, most frequent in the corpus the vocabulary was counted on, or the largest
 * gradient signal on the task's training rows: importance.ts), rebuild the
 * vocabulary and the table with only those, and say what happens to the rest: with buckets > 0
 * they hash into that many bucket rows (each the mean of the dropped rows that hash there, or the
 * model's own bucket rows when it already had as many); with 0 they are skipped. The vocabulary
 * file shrinks with the table, which is what makes a whole student small.
 */
import { getBackend } from '../../engine/index.js';
import { OpError } from '../../errors.js';
import { Dan, DanModel } from '../../models/dan.js';
import { DenseNgramTable } from '../../models/danTable.js';
import { fastTextHash } from '../../text/fnv.js';
import { NgramVocab } from '../../text/ngramVocab.js';
import type { CompressSettings } from './methods.js';

export interface PruneInfo {
  by: 'norm' | 'frequency' | 'gradient';
  kept: number;
  dropped: number;
  fallout: 'bucket' | 'skip';
  buckets: number;
}

/** `importance`: with `pruneBy` 'gradient', each row's task importance (importance.ts). */
export function pruneDan(dan: Dan, s: CompressSettings, importance?: Float64Array): { dan: Dan; info: PruneInfo } {
  const table = dan.model.embeddings;
  if (table.kind !== 'dense') throw new OpError('--method prune', `the model's table is already ${table.kind}; pruning needs a dense table (compress the uncompressed model, prune first: prune,pq)`);
  const V = dan.vocab.size, B = dan.features.buckets, dim = table.dim;
  if (!(Number.isInteger(s.pruneKeep) && s.pruneKeep >= 1)) throw new OpError('--prune-keep', `must be a whole number >= 1, got ${s.pruneKeep}`);
  if (!(Number.isInteger(s.pruneBuckets) && s.pruneBuckets >= 0)) throw new OpError('--prune-buckets', `must be a whole number >= 0, got ${s.pruneBuckets}`);
  const keep = Math.min(s.pruneKeep, V);
  const w = table.toDense();
  const be = getBackend();
  if (s.pruneBy === 'gradient' && importance?.length !== table.rows) throw new OpError('--prune-by gradient', 'needs the training rows (--train) to measure each n-gram\'s gradient signal');
  const norm = new Float64Array(V);
  for (let i = 0; i < V; i++) norm[i] = be.dot(dim, w.subarray(i * dim), w.subarray(i * dim));
  const score = s.pruneBy === 'norm' ? norm : s.pruneBy === 'frequency' ? Float64Array.from(dan.vocab.counts.subarray(0, V)) : importance!;
  // Ties go to the larger norm, whatever the ranking: by frequency most n-grams share a count of 1
  // or 2, and by gradient every row the training rows never touch scores 0.
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => score[b]! - score[a]! || norm[b]! - norm[a]! || a - b);
  const kept = order.slice(0, keep).sort((a, b) => a - b);
  const keptSet = new Uint8Array(V);
  for (const i of kept) keptSet[i] = 1;
  const nb = s.pruneBuckets;
  const rows = keep + nb;
  const data = new Float32Array(rows * dim);
  kept.forEach((id, r) => data.set(w.subarray(id * dim, id * dim + dim), r * dim));
  if (nb > 0 && nb === B) {
    data.set(w.subarray(V * dim, (V + B) * dim), keep * dim);
  } else if (nb > 0) {
    const counts = new Int32Array(nb);
    for (let i = 0; i < V; i++) {
      if (keptSet[i]) continue;
      const b = fastTextHash(dan.vocab.ngrams[i]!) % nb;
      counts[b]!++;
      be.axpby(dim, 1, w.subarray(i * dim), 1, data.subarray((keep + b) * dim));
    }
    for (let b = 0; b < nb; b++) if (counts[b]! > 1) be.axpby(dim, 1 / counts[b]!, data.subarray((keep + b) * dim), 0, data.subarray((keep + b) * dim));
  }
  const vocab = new NgramVocab(kept.map((i) => dan.vocab.ngrams[i]!), Uint32Array.from(kept, (i) => dan.vocab.counts[i]!), dan.vocab.meta);
  const model = withTable(dan.model, new DenseNgramTable(rows, dim, { data }));
  const out = new Dan(model, vocab, { buckets: nb, maxN: dan.features.maxN }, dan.labels);
  return { dan: out, info: { by: s.pruneBy, kept: keep, dropped: V - keep, fallout: nb > 0 ? 'bucket' : 'skip', buckets: nb } };
}

/** The same DAN (hidden and output layers copied) over another table. */
export function withTable(m: DanModel, table: DanModel['embeddings']): DanModel {
  const out = new DanModel({ ...m.config, rows: table.rows }, { table, init: false });
  const src = new Map(m.namedParameters());
  for (const [name, p] of out.namedParameters()) if (!name.startsWith('embeddings.')) p.data.set(src.get(name)!.data);
  return out;
}
