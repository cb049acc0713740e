/**
 * Text -> n-gram ids for the DAN student: the words of the text (`bertWords`, the tokenizer's
 * normalisation), every 1..maxN-gram of them looked up in an NgramVocab (ids 0..V-1), and, when
 * `buckets` > 0, every n-gram the vocabulary lacks hashed fastText-style into one of `buckets`
 * extra ids V..V+buckets-1 (`fastTextHash(ngram) % buckets`, computed word by word without
 * building the n-gram string). Ids come start position by start position, shortest n-gram first.
 *
 * `featurizeInto` writes into a caller's buffer and allocates nothing beyond the word split.
 */
import { bertWords } from './bertNormalizer.js';
import { FNV_OFFSET, fnvByte, fnvString } from './fnv.js';
import type { NgramVocab } from './ngramVocab.js';

export interface FeaturizerOptions {
  /** Hash buckets for n-grams outside the vocabulary (0: drop them; fastText's default is 2,000,000). */
  buckets?: number;
  /** Longest n-gram to emit (default: the vocabulary's maxN). */
  maxN?: number;
}

export class NgramFeaturizer {
  readonly buckets: number;
  readonly maxN: number;
  /** Size of the id space: vocabulary size + buckets. */
  readonly dim: number;
  private wids = new Int32Array(64);
  private out = new Int32Array(256);

  constructor(readonly vocab: NgramVocab, opts: FeaturizerOptions = {}) {
    this.buckets = opts.buckets ?? 0;
    this.maxN = opts.maxN ?? vocab.meta.maxN;
    if (!(this.maxN >= 1 && this.maxN <= 4)) throw new RangeError(`maxN must be 1..4, got ${this.maxN}`);
    if (!Number.isInteger(this.buckets) || this.buckets < 0) throw new RangeError(`buckets must be a whole number >= 0, got ${this.buckets}`);
    this.dim = vocab.size + this.buckets;
  }

  /** The words the featuriser sees in `text`. */
  words(text: string): string[] {
    return bertWords(text, { lowercase: this.vocab.meta.lowercase });
  }

  /** The n-gram ids of `text` (a fresh array). */
  featurize(text: string): Int32Array {
    const words = this.words(text);
    const need = maxIds(words.length, this.maxN);
    if (need > this.out.length) this.out = new Int32Array(need * 2);
    return this.out.slice(0, this.featurizeWords(words, this.out));
  }

  /** Writes the n-gram ids of `text` into `out`; returns how many (stops when `out` is full). */
  featurizeInto(text: string, out: Int32Array): number {
    return this.featurizeWords(this.words(text), out);
  }

  /** As featurizeInto, for words already split. */
  featurizeWords(words: readonly string[], out: Int32Array): number {
    const W = words.length;
    if (W > this.wids.length) this.wids = new Int32Array(W * 2);
    const wids = this.wids;
    const vocab = this.vocab;
    for (let i = 0; i < W; i++) wids[i] = vocab.wordId(words[i]!);
    const V = vocab.size;
    const buckets = this.buckets;
    let k = 0;
    for (let i = 0; i < W; i++) {
      const last = Math.min(this.maxN, W - i);
      let h = FNV_OFFSET;
      // Whether a longer n-gram from i can still be in the vocabulary (its words are all known
      // and the vocabulary has an n-gram extending the one just probed).
      let open = true;
      for (let n = 1; n <= last; n++) {
        const j = i + n - 1;
        if (buckets > 0) {
          if (n > 1) h = fnvByte(h, 0x20);
          h = fnvString(h, words[j]!);
        }
        let id = -1;
        if (open) {
          const v = vocab.probe(wids, i, n);
          id = (v >>> 1) - 1;
          open = (v & 1) === 1;
        }
        if (id < 0) {
          if (buckets === 0) {
            if (!open) break; // no longer n-gram from here is in the vocabulary
            continue;
          }
          id = V + ((h >>> 0) % buckets);
        }
        if (k >= out.length) return k;
        out[k++] = id;
      }
    }
    return k;
  }
}

/** The most ids a text of `words` words can produce. */
export function maxIds(words: number, maxN: number): number {
  let n = 0;
  for (let len = 1; len <= maxN; len++) n += Math.max(0, words - len + 1);
  return n;
}
