/**
 * Transfer-set augmentation for distillation: new texts made from a task's own training texts, so
 * a teacher can label far more in-domain inputs than the task provides (Tang et al. 2019,
 * "Distilling Task-Specific Knowledge from BERT into Simple Neural Networks", section 3.3). Each
 * variant of a text is made by, word by word (words as `bertWords` splits them):
 *   - dropping the word with probability `pDrop` (Tang et al. mask it; a dropped word serves a DAN
 *     student better than a [MASK] token it would featurise as three junk words),
 *   - else replacing it with probability `pReplace` by a word drawn from the unigram distribution of
 *     all the texts (Tang et al. draw one of the same part of speech; no tagger is at hand here),
 *   - then, with probability `pSpan`, keeping only a random span of 1..5 words (their n-gram sampling).
 * Variants equal to the text or to an earlier variant of it are not repeated, and a variant never
 * comes out empty. Seeded: the same texts and options give the same variants, in the same order,
 * which is what lets a labelling run index back into (and resume over) an augmented corpus.
 */
import { Rng } from '../engine/random.js';
import { bertWords } from './bertNormalizer.js';

export interface AugmentOptions {
  /** Variants tried per text (fewer come out when they repeat). */
  copies: number;
  /** Per-word drop probability (default 0.1). */
  pDrop?: number;
  /** Per-word replacement probability (default 0.1). */
  pReplace?: number;
  /** Probability of keeping only a random 1..5-word span (default 0.25). */
  pSpan?: number;
  seed?: number;
}

/** Words as the augmenter sees them: BERT words, case kept (the teacher's tokenizer lowercases). */
function splitWords(text: string): string[] {
  return bertWords(text, { lowercase: false });
}

export class Augmenter {
  private readonly pool: string[];
  private readonly rng: Rng;
  private readonly opts: Required<AugmentOptions>;

  /** `texts`: the texts whose words replacements are drawn from (usually the ones augmented). */
  constructor(texts: Iterable<string>, opts: AugmentOptions) {
    if (!(Number.isInteger(opts.copies) && opts.copies >= 1)) throw new RangeError(`augment copies must be a whole number >= 1, got ${opts.copies}`);
    this.opts = { pDrop: 0.1, pReplace: 0.1, pSpan: 0.25, seed: 0, ...opts };
    for (const k of ['pDrop', 'pReplace', 'pSpan'] as const) {
      const p = this.opts[k];
      if (!(p >= 0 && p <= 1)) throw new RangeError(`augment ${k} must be in [0, 1], got ${p}`);
    }
    // Every word occurrence once: a uniform pick from it is a draw from the unigram distribution.
    this.pool = [];
    for (const t of texts) for (const w of splitWords(t)) this.pool.push(w);
    this.rng = Rng.derive(this.opts.seed, 'augment');
  }

  /** Up to `copies` distinct variants of `text`, none equal to it. */
  variants(text: string): string[] {
    const words = splitWords(text);
    if (words.length === 0) return [];
    const seen = new Set<string>([words.join(' ')]);
    const out: string[] = [];
    for (let c = 0; c < this.opts.copies; c++) {
      const v = this.variant(words);
      if (v.length === 0) continue;
      const s = v.join(' ');
      if (seen.has(s)) continue;
      seen.add(s);
      out.push(s);
    }
    return out;
  }

  private variant(words: readonly string[]): string[] {
    const { pDrop, pReplace, pSpan } = this.opts;
    const rng = this.rng;
    let v: string[] = [];
    for (const w of words) {
      const u = rng.next();
      if (u < pDrop) continue;
      v.push(u < pDrop + pReplace && this.pool.length > 0 ? this.pool[rng.int(this.pool.length)]! : w);
    }
    if (v.length > 1 && rng.next() < pSpan) {
      const n = Math.min(v.length, 1 + rng.int(5));
      const start = rng.int(v.length - n + 1);
      v = v.slice(start, start + n);
    }
    return v;
  }
}
