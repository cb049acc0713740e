/**
 * Corpus spec prefixes that reshape a stream of texts, for large paragraph corpora
 * (../shared/corpora/*.txt.gz): each wraps another spec, and they nest.
 *   sentences:SPEC          each text split into sentences (Intl.Segmenter: ICU's sentence rules,
 *                           built into Node, so no splitter is written here; V8 ignores ICU's
 *                           abbreviation list, so a break after a common title or initial such as
 *                           "Mr." or "J." is undone here)
 *   words:MIN-MAX:SPEC      only texts of MIN..MAX whitespace-separated words (MAX may be empty: no cap)
 *   sample:RATE[@SEED]:SPEC each text kept with probability RATE, decided by a hash of the text and
 *                           the seed: streaming, no state, and the same texts on every run (a resumed
 *                           labelling run re-streams the corpus and must see the same texts)
 *   head:N:SPEC             the first N texts
 * Example: head:100000:words:3-:sentences:../shared/corpora/imdb-unsup.txt.gz
 */
import { createHash } from 'node:crypto';
import { InputError } from '../errors.js';

export interface CorpusFilter {
  /** The spec this one wraps. */
  inner: string;
  apply(texts: AsyncIterable<string>): AsyncGenerator<string>;
}

const USAGE = 'corpus filters are sentences:SPEC, words:MIN-MAX:SPEC, sample:RATE[@SEED]:SPEC or head:N:SPEC';

/** The filter a spec starts with, or undefined for a plain spec. */
export function corpusFilter(spec: string): CorpusFilter | undefined {
  if (spec.startsWith('sentences:')) {
    const inner = spec.slice('sentences:'.length);
    if (!inner) throw new InputError(spec, undefined, undefined, USAGE);
    return { inner, apply: splitSentences };
  }
  let m = /^words:(\d+)-(\d*):(.+)$/.exec(spec);
  if (spec.startsWith('words:')) {
    if (!m) throw new InputError(spec, undefined, undefined, `${USAGE} (words:3-40:SPEC keeps texts of 3 to 40 words)`);
    const min = Number(m[1]);
    const max = m[2] ? Number(m[2]) : Infinity;
    if (max < min) throw new InputError(spec, undefined, undefined, `words:MIN-MAX needs MIN <= MAX, got ${min}-${max}`);
    return { inner: m[3]!, apply: (t) => byWords(t, min, max) };
  }
  m = /^sample:([0-9.]+)(?:@(\d+))?:(.+)$/.exec(spec);
  if (spec.startsWith('sample:')) {
    const rate = m ? Number(m[1]) : NaN;
    if (!m || !(rate > 0 && rate <= 1)) throw new InputError(spec, undefined, undefined, `${USAGE} (sample:0.1@7:SPEC keeps ~10% of the texts, seed 7; RATE in (0, 1])`);
    return { inner: m[3]!, apply: (t) => sample(t, rate, m![2] ?? '0') };
  }
  m = /^head:(\d+):(.+)$/.exec(spec);
  if (spec.startsWith('head:')) {
    if (!m || Number(m[1]) < 1) throw new InputError(spec, undefined, undefined, `${USAGE} (head:N:SPEC, N >= 1)`);
    return { inner: m[2]!, apply: (t) => head(t, Number(m![1])) };
  }
  return undefined;
}

/** A segment ending in one of these is not a sentence end. */
const ABBREVIATION = /(?:^|\s)(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Mt|No|vs|etc|e\.g|i\.e|[A-Z])\.\s*$/;

async function* splitSentences(texts: AsyncIterable<string>): AsyncGenerator<string> {
  const seg = new Intl.Segmenter('en', { granularity: 'sentence' });
  for await (const t of texts) {
    let carry = '';
    for (const s of seg.segment(t)) {
      const x = carry + s.segment;
      if (ABBREVIATION.test(x)) {
        carry = x;
        continue;
      }
      carry = '';
      const y = x.trim();
      if (y) yield y;
    }
    if (carry.trim()) yield carry.trim();
  }
}

async function* byWords(texts: AsyncIterable<string>, min: number, max: number): AsyncGenerator<string> {
  for await (const t of texts) {
    const n = t.split(/\s+/).filter(Boolean).length;
    if (n >= min && n <= max) yield t;
  }
}

async function* sample(texts: AsyncIterable<string>, rate: number, seed: string): AsyncGenerator<string> {
  const cut = rate * 2 ** 32;
  for await (const t of texts) {
    if (createHash('sha1').update(seed).update('\0').update(t).digest().readUInt32LE(0) < cut) yield t;
  }
}

async function* head(texts: AsyncIterable<string>, n: number): AsyncGenerator<string> {
  if (n <= 0) return;
  let i = 0;
  for await (const t of texts) {
    yield t;
    if (++i >= n) return;
  }
}
