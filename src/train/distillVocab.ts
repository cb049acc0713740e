/**
 * The n-gram vocabulary of a student, built from the texts it will see (transfer set plus labelled
 * training text) with the streaming builder (text/ngramBuild.ts). The builder reads corpus files,
 * so the texts go to a temporary file first, one a line (line breaks inside a text become spaces).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildNgramVocab, type NgramBuildOptions } from '../text/ngramBuild.js';
import { NgramVocab } from '../text/ngramVocab.js';
import { textNgrams } from '../text/ngrams.js';

export async function vocabFromTexts(texts: Iterable<string>, opts: NgramBuildOptions, source = 'the transfer and training texts'): Promise<NgramVocab> {
  const dir = await mkdtemp(join(tmpdir(), 'slimtext-vocab-'));
  try {
    const file = join(dir, 'texts.txt');
    const lines: string[] = [];
    for (const t of texts) {
      const line = t.replace(/\s+/g, ' ').trim();
      if (line) lines.push(line);
    }
    await writeFile(file, lines.join('\n') + '\n');
    let vocab: NgramVocab;
    try {
      vocab = (await buildNgramVocab([file], opts)).vocab;
    } catch (e) {
      // Work-around: text/fingerprintTable.ts topEntries spreads all tied n-grams into push(), which
      // overflows the stack when the vocabulary limit exceeds every n-gram the texts hold and
      // >100k of them tie at the lowest count. Asking for one n-gram fewer than there are takes
      // its other path.
      if (!(e instanceof RangeError) || !/call stack/.test(e.message)) throw e;
      const have = distinctNgrams(lines, opts);
      vocab = (await buildNgramVocab([file], { ...opts, maxVocab: Math.max(1, Math.min(opts.maxVocab, have - 1)) })).vocab;
    }
    // Name the texts, not the temporary file, as the vocabulary's source.
    return new NgramVocab(vocab.ngrams, vocab.counts, { ...vocab.meta, sources: [source] });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Distinct 1..maxN-grams with count >= minCount (only on the work-around's path, where they are few). */
function distinctNgrams(lines: readonly string[], opts: NgramBuildOptions): number {
  const counts = new Map<string, number>();
  for (const l of lines) for (const g of textNgrams(l, opts.maxN ?? 4, { lowercase: opts.lowercase ?? true })) counts.set(g, (counts.get(g) ?? 0) + 1);
  let n = 0;
  for (const c of counts.values()) if (c >= (opts.minCount ?? 1)) n++;
  return n;
}
