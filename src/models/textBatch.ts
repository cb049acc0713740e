/**
 * Texts tokenised once, then gathered into padded batches on demand (dynamic padding: a batch is
 * as long as its longest row, not as the maximum length), for training, evaluation and prediction.
 */
import { IntTensor } from '../engine/index.js';
import type { WordPieceTokenizer } from '../text/tokenizer.js';
import type { BertInput } from './bert/model.js';

/** Every text (or text pair) as token ids with special tokens, truncated to the maximum length. */
export interface TokenizedSet {
  ids: Int32Array[];
  typeIds: Int32Array[];
  lengths: Int32Array;
}

/** A padded (B, T) batch and each row's real length. */
export interface PaddedBatch extends BertInput {
  attentionMask: IntTensor;
  tokenTypes: IntTensor;
  lengths: Int32Array;
}

export function tokenizeAll(tok: WordPieceTokenizer, texts: readonly string[], pairs: readonly string[] | undefined, maxLength: number): TokenizedSet {
  const n = texts.length;
  const ids: Int32Array[] = new Array(n);
  const typeIds: Int32Array[] = new Array(n);
  const lengths = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const e = tok.encode(texts[i]!, pairs?.[i], { maxLength });
    ids[i] = e.ids;
    typeIds[i] = e.typeIds;
    lengths[i] = e.ids.length;
  }
  return { ids, typeIds, lengths };
}

/** Rows `rows` of a tokenised set as one batch padded to its longest row. */
export function padRows(set: TokenizedSet, rows: ArrayLike<number>, padId: number): PaddedBatch {
  const B = rows.length;
  let T = 1;
  for (let r = 0; r < B; r++) T = Math.max(T, set.lengths[rows[r]!]!);
  const ids = new Int32Array(B * T).fill(padId);
  const types = new Int32Array(B * T);
  const mask = new Int32Array(B * T);
  const lengths = new Int32Array(B);
  for (let r = 0; r < B; r++) {
    const i = rows[r]!;
    const len = set.lengths[i]!;
    ids.set(set.ids[i]!, r * T);
    types.set(set.typeIds[i]!, r * T);
    mask.fill(1, r * T, r * T + len);
    lengths[r] = len;
  }
  const shape = [B, T];
  return { ids: new IntTensor(ids, shape), attentionMask: new IntTensor(mask, shape), tokenTypes: new IntTensor(types, shape), lengths };
}

/**
 * Evaluation order: rows sorted by length and cut into batches, so each batch pads little. Returns
 * batches of row indices (into the set); results must be put back by index.
 */
export function lengthSortedBatches(lengths: Int32Array, batchSize: number): Int32Array[] {
  const order = Int32Array.from({ length: lengths.length }, (_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const out: Int32Array[] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.subarray(i, i + batchSize));
  return out;
}
