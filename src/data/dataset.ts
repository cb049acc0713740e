/**
 * The one shape every labelled data-set reader produces: a `Dataset` is a set of named splits, and
 * reading a split streams `Example`s. Readers differ only in how they turn a file into examples.
 *
 * Bad rows never vanish: a reader either throws an InputError naming file, line and field, or,
 * with `skipBad`, records the row in the stream's `SkipLog` so callers can report the count.
 */
import { InputError } from '../errors.js';

export interface Example {
  /** The text to classify, or the message of a message -> reply pair. */
  text: string;
  /** The second text of a text-pair task (NLI, paraphrase). */
  pair?: string;
  /** The label as written in the source (a multi-label row keeps its joined form, e.g. ATIS `a#b`). */
  label?: string;
  /** The parts of a multi-label row (ATIS `a#b` -> [a, b]); absent for single-label rows. */
  labels?: string[];
  /** The reply of a message -> reply pair. */
  target?: string;
  /** Extra per-row annotations a source carries (dialogue act, emotion, TREC fine label, ...). */
  meta?: Record<string, string>;
  /** 1-based line in the source file where the row starts, when the source has lines. */
  line?: number;
}

export type FormatName =
  | 'csv'
  | 'tsv'
  | 'jsonl'
  | 'seqin'
  | 'clinc'
  | 'convlab'
  | 'trec'
  | 'semicolon'
  | 'agnews'
  | 'lines';

export interface ReadOptions {
  /** Skip bad rows (counted in the stream's SkipLog) instead of throwing. */
  skipBad?: boolean;
}

export interface Dataset {
  /** The path the dataset was opened from. */
  readonly path: string;
  /** The splits' format, or 'mixed' for a folder holding several (BANKING77: CSV + seq.in). */
  readonly format: FormatName | 'mixed';
  /** Split names in source order (e.g. train, valid, test). */
  readonly splits: readonly string[];
  /** Things a user should know about how the path was read (chosen file, guessed columns, ...). */
  readonly notes: readonly string[];
  /** The file a split reads from (for messages). */
  fileOf(split: string): string;
  formatOf(split: string): FormatName;
  /** Streams one split; `split` may be an alias (dev/val/valid/validation). */
  read(split: string, opts?: ReadOptions): ExampleStream;
}

/** Skipped rows of one read: the count plus the first few errors, for a report. */
export class SkipLog {
  count = 0;
  readonly first: InputError[] = [];
  constructor(readonly keep = 5) {}
  add(e: InputError): void {
    this.count++;
    if (this.first.length < this.keep) this.first.push(e);
  }
}

/** An async stream of examples that remembers which rows it skipped. */
export class ExampleStream implements AsyncIterable<Example> {
  readonly skipped = new SkipLog();
  constructor(private readonly gen: (bad: BadRow) => AsyncIterable<Example>, private readonly skipBad: boolean) {}
  [Symbol.asyncIterator](): AsyncIterator<Example> {
    const bad: BadRow = (e) => {
      if (!this.skipBad) throw e;
      this.skipped.add(e);
    };
    return this.gen(bad)[Symbol.asyncIterator]();
  }
}

/** Readers call this for every bad row: it throws, or (skipBad) logs the row and returns. */
export type BadRow = (e: InputError) => void;

/** One split's source inside a Dataset. */
export interface SplitSource {
  file: string;
  format: FormatName;
  examples(bad: BadRow): AsyncIterable<Example>;
}

/** Names that mean the same split in different data sets. */
const ALIASES: readonly (readonly string[])[] = [['dev', 'val', 'valid', 'validation'], ['train'], ['test']];

/** The split of `available` that `name` refers to (exact, then by alias), or undefined. */
export function resolveSplit(available: readonly string[], name: string): string | undefined {
  if (available.includes(name)) return name;
  const group = ALIASES.find((g) => g.includes(name));
  return group ? available.find((s) => group.includes(s)) : undefined;
}

/** Builds a Dataset from named split sources; every reader ends here. */
export function makeDataset(path: string, sources: Map<string, SplitSource>, notes: string[] = []): Dataset {
  const splits = [...sources.keys()];
  const formats = new Set([...sources.values()].map((s) => s.format));
  const find = (split: string): SplitSource => {
    const name = resolveSplit(splits, split);
    if (name === undefined) throw new InputError(path, undefined, undefined, `no split '${split}' (has: ${splits.join(', ')})`);
    return sources.get(name)!;
  };
  return {
    path,
    format: formats.size === 1 ? [...formats][0]! : 'mixed',
    splits,
    notes,
    fileOf: (split) => find(split).file,
    formatOf: (split) => find(split).format,
    read(split, opts = {}) {
      const src = find(split);
      return new ExampleStream((bad) => src.examples(bad), opts.skipBad ?? false);
    },
  };
}

/** Reads a whole split into memory (for the small labelled sets; big corpora should stream). */
export async function collect(stream: AsyncIterable<Example>): Promise<Example[]> {
  const out: Example[] = [];
  for await (const ex of stream) out.push(ex);
  return out;
}

/**
 * The checks every reader applies to a row before yielding it: non-empty text, non-empty label when
 * the source is labelled. Returns false (after reporting) when the row is bad.
 */
export function checkRow(ex: Example, file: string, bad: BadRow, labelled: boolean, fields = { text: 'text', label: 'label' }): boolean {
  if (ex.text.trim() === '') {
    bad(new InputError(file, ex.line, fields.text, 'empty text'));
    return false;
  }
  if (labelled && (ex.label === undefined || ex.label === '')) {
    bad(new InputError(file, ex.line, fields.label, 'empty label'));
    return false;
  }
  return true;
}

/** Split name from a file name: the first train/dev/val/valid/validation/test word, else the stem. */
export function splitNameOf(fileName: string): string {
  const stem = fileName.replace(/\.[^.]*$/, '');
  const words = stem.toLowerCase().split(/[^a-z0-9]+/);
  for (const w of words) if (['train', 'dev', 'val', 'valid', 'validation', 'test'].includes(w)) return w;
  return stem;
}
