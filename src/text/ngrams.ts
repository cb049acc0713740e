/**
 * Word n-grams as strings: the words of a text (BERT's basic normalisation, `bertWords`), and
 * every run of 1..maxN consecutive words joined by one space, start by start, shortest first.
 * This is the readable reference form; counting (ngramCount.ts) and featurising (featurizer.ts)
 * produce the same n-grams without building the strings.
 */
import { bertWords, type BertNormalizerOptions } from './bertNormalizer.js';

/** The 1..maxN-grams of a list of words. */
export function wordNgrams(words: readonly string[], maxN: number): string[] {
  if (!(maxN >= 1 && maxN <= 4)) throw new RangeError(`maxN must be 1..4, got ${maxN}`);
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    let g = '';
    for (let n = 1; n <= maxN && i + n <= words.length; n++) {
      g = n === 1 ? words[i]! : `${g} ${words[i + n - 1]!}`;
      out.push(g);
    }
  }
  return out;
}

/** The 1..maxN-grams of a text, normalised as the tokenizer's basic step does. */
export function textNgrams(text: string, maxN: number, opts: BertNormalizerOptions = {}): string[] {
  return wordNgrams(bertWords(text, opts), maxN);
}
