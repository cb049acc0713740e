/**
 * The n-gram vocabulary of a student, built from the texts it will see (transfer set plus labelled
 * training text) with the streaming builder (text/ngramBuild.ts). The builder reads corpus files,
 * so the texts go to a temporary file first, one a line (line breaks inside a text become spaces).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildNgramVocab, type NgramBuildOptions } from '../../text/ngramBuild.js';
import { NgramVocab } from '../../text/ngramVocab.js';

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
    const { vocab } = await buildNgramVocab([file], opts);
    // Name the texts, not the temporary file, as the vocabulary's source.
    return new NgramVocab(vocab.ngrams, vocab.counts, { ...vocab.meta, sources: [source] });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

