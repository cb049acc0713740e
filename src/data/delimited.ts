/**
 * CSV and TSV with or without a header, columns chosen by name or index. Parsing is csv-parse
 * (streaming, RFC 4180: quoted delimiters, quoted newlines, doubled quotes); this module adds UTF-8
 * checking with line numbers, header detection, column choice and per-row checks.
 *
 * TSV files are parsed with quotes on too: AG News' train-sample.tsv quotes fields that hold
 * quotes ("...""major neglect""...") while GLUE's TSVs contain no quote characters at all, so one
 * rule reads both; `quote: false` reads a TSV whose fields start with a literal quote.
 */
import { Readable } from 'node:stream';
import { parse, CsvError } from 'csv-parse';
import { InputError } from '../errors.js';
import { type BadRow, type Example, type SplitSource, checkRow } from './dataset.js';
import { type TextEncoding, invalidIn, readByteChunks } from './lines.js';

/** A column by header name or 0-based index. */
export type Column = string | number;

export interface DelimitedOptions {
  delimiter?: string;
  /** true, false, or 'auto' (a first row made of known column names, e.g. `sentence\tlabel`). */
  header?: boolean | 'auto';
  /** The text column; several columns are joined with a space (AG News title + description). */
  text?: Column | Column[];
  pair?: Column;
  /** The label column; false for an unlabelled file. */
  label?: Column | false;
  target?: Column;
  /** Honour double quotes (default true). */
  quote?: boolean;
  encoding?: TextEncoding;
  /** Turns a row's raw label into the label (AG News class ids -> names). */
  mapLabel?: (raw: string, line: number) => string | undefined;
}

/** Header names read as the text, pair, label and target columns when none is named. */
export const TEXT_NAMES = ['text', 'sentence', 'sentence1', 'text_a', 'question', 'utterance', 'content', 'review', 'message', 'query'];
export const PAIR_NAMES = ['pair', 'sentence2', 'text_b', 'text_pair', 'hypothesis'];
export const LABEL_NAMES = ['label', 'labels', 'category', 'label_name', 'intent', 'class', 'gold_label', 'y'];
export const TARGET_NAMES = ['target', 'reply', 'response', 'answer'];

/** One split read from one delimited file. */
export function delimitedSource(file: string, opts: DelimitedOptions): SplitSource {
  return { file, format: opts.delimiter === '\t' || (opts.delimiter === undefined && /\.tsv$/i.test(file)) ? 'tsv' : 'csv', examples: (bad) => readDelimited(file, opts, bad) };
}

interface Layout {
  width: number;
  names: string[];
  text: number[];
  pair?: number;
  label?: number;
  target?: number;
}

async function* readDelimited(file: string, opts: DelimitedOptions, bad: BadRow): AsyncGenerator<Example> {
  const delimiter = opts.delimiter ?? (/\.tsv$/i.test(file) ? '\t' : ',');
  const newline = Buffer.from('\n');
  const source = Readable.from(
    (async function* () {
      for await (const chunk of readByteChunks(file, { encoding: opts.encoding, onInvalid: (e) => invalid.set(e.line!, e) })) {
        yield chunk.bytes;
        yield newline;
      }
    })(),
  );
  // Line numbers are counted here rather than with csv-parse's `info` option, which costs 2.5x
  // the parse itself; empty lines therefore come through as [''] records and are skipped below.
  let line = 1;
  // Lines that are not valid UTF-8 are parsed (bad bytes read as U+FFFD) and their row reported
  // naming the field that holds them.
  const invalid = new Map<number, InputError>();
  // With relax_quotes and relax_column_count the one error csv-parse has left is a quote never
  // closed, found at the end of the file; it is reported once every row before it has been read,
  // when `line` is where the unfinished record starts.
  const parseErrors: CsvError[] = [];
  const parser = parse({
    delimiter,
    quote: opts.quote === false ? false : '"',
    encoding: opts.encoding === 'latin1' ? 'latin1' : 'utf8',
    relax_quotes: true,
    relax_column_count: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      if (err) parseErrors.push(err);
      return undefined;
    },
  });
  source.on('error', (e) => parser.destroy(e));
  source.pipe(parser);
  let layout: Layout | undefined;
  const labelled = opts.label !== false;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      const start = line;
      for (const f of record) line += countChar(f, '\n');
      line++;
      if (invalid.size) {
        const e = firstInvalid(invalid, start, line);
        if (e) {
          bad(invalidIn(e, Object.fromEntries(record.map((f, i) => [layout?.names[i] ?? `column ${i + 1}`, f]))));
          continue;
        }
      }
      if (record.length === 1 && record[0] === '') continue;
      if (!layout) {
        layout = chooseLayout(file, start, record, opts, delimiter);
        if (layout.names.length) continue;
      }
      if (record.length !== layout.width) {
        const field = record.length < layout.width ? (layout.names[record.length] ?? `column ${record.length + 1}`) : `column ${layout.width + 1}`;
        bad(new InputError(file, start, field, `row has ${record.length} field${record.length === 1 ? '' : 's'}, expected ${layout.width}`));
        continue;
      }
      const ex: Example = { text: layout.text.length === 1 ? record[layout.text[0]!]! : layout.text.map((i) => record[i]!).join(' '), line: start };
      if (layout.pair !== undefined) ex.pair = record[layout.pair]!;
      if (layout.target !== undefined) ex.target = record[layout.target]!;
      if (layout.label !== undefined) {
        const raw = record[layout.label]!.trim();
        const label = opts.mapLabel && raw !== '' ? opts.mapLabel(raw, start) : raw;
        if (label === undefined) {
          bad(new InputError(file, start, layout.names[layout.label] ?? `column ${layout.label + 1}`, `unknown class '${raw}'`));
          continue;
        }
        ex.label = label;
      }
      const fields = { text: layout.names[layout.text[0]!] ?? `column ${layout.text[0]! + 1}`, label: layout.label !== undefined ? (layout.names[layout.label] ?? `column ${layout.label + 1}`) : 'label' };
      if (checkRow(ex, file, bad, labelled, fields)) yield ex;
    }
    for (const e of parseErrors) bad(fromCsvError(file, e, line));
  } catch (e) {
    if (e instanceof CsvError) throw fromCsvError(file, e, line);
    throw e;
  } finally {
    source.destroy();
  }
}

/** Decides header or not and which column is which, from the first record. */
function chooseLayout(file: string, line: number, first: string[], opts: DelimitedOptions, delimiter: string): Layout {
  const lower = first.map((f) => f.trim().toLowerCase());
  const known = [...TEXT_NAMES, ...PAIR_NAMES, ...LABEL_NAMES, ...TARGET_NAMES];
  const named = (c: Column | false | undefined) => typeof c === 'string' && !/^\d+$/.test(c);
  const header =
    opts.header === true ||
    (opts.header !== false && (lower.some((f) => known.includes(f)) || [...(Array.isArray(opts.text) ? opts.text : [opts.text]), opts.pair, opts.label, opts.target].some((c) => named(c) && lower.includes((c as string).toLowerCase()))));
  const names = header ? first.map((f) => f.trim()) : [];
  const width = first.length;
  const find = (c: Column | undefined, role: string, fallback: string[]): number | undefined => {
    if (c === undefined) {
      const i = lower.findIndex((f) => header && fallback.includes(f));
      return i >= 0 ? i : undefined;
    }
    const idx = typeof c === 'number' ? c : /^\d+$/.test(c) ? Number(c) : header ? lower.indexOf(c.toLowerCase()) : -1;
    if (idx < 0 || idx >= width) {
      const has = header ? `header has: ${names.join(', ')}` : `rows have ${width} columns and no header`;
      throw new InputError(file, line, String(c), `no ${role} column '${c}' (${has})`);
    }
    return idx;
  };
  const textCols = Array.isArray(opts.text) ? opts.text.map((c) => find(c, 'text', TEXT_NAMES)!) : undefined;
  let text = textCols ? textCols[0] : find(opts.text as Column | undefined, 'text', TEXT_NAMES);
  let label = opts.label === false ? undefined : find(opts.label, 'label', LABEL_NAMES);
  const pair = find(opts.pair, 'pair', PAIR_NAMES);
  const target = find(opts.target, 'target', TARGET_NAMES);
  if (!header && opts.text === undefined && opts.label === undefined && width === 2 && !/\s/.test(first[0]!.trim()) && /\s/.test(first[1]!.trim())) {
    // `label<TAB>text` without a header: the one-word column is the label.
    label = 0;
    text = 1;
  }
  const taken = new Set([pair, target, label].filter((x) => x !== undefined));
  if (text === undefined) text = [...Array(width).keys()].find((i) => !taken.has(i));
  if (text === undefined) throw new InputError(file, line, 'text', `no text column among ${width} column${width === 1 ? '' : 's'}`);
  if (label === undefined && opts.label !== false) {
    const rest = [...Array(width).keys()].filter((i) => i !== text && !taken.has(i));
    if (rest.length === 0) {
      throw new InputError(file, line, 'label', `no label column (${header ? `header has: ${names.join(', ')}` : `rows have ${width} column${width === 1 ? '' : 's'}`}, delimiter ${JSON.stringify(delimiter)}); name one, or read it as unlabelled`);
    }
    label = rest[rest.length - 1];
  }
  return { width, names, text: textCols ?? [text], pair, label, target };
}

/** The error for a record csv-parse could not read, at the line where that record starts. */
function fromCsvError(file: string, e: CsvError, recordStart: number): InputError {
  if (e.code === 'CSV_QUOTE_NOT_CLOSED') return new InputError(file, recordStart, undefined, 'a quoted field opened in this row is never closed (everything after it was read as one field)');
  return new InputError(file, recordStart, undefined, e.message);
}

/** The invalid-UTF-8 error of a line in [from, to), removing those lines from the map. */
function firstInvalid(invalid: Map<number, InputError>, from: number, to: number): InputError | undefined {
  let found: InputError | undefined;
  for (let l = from; l < to; l++) {
    const e = invalid.get(l);
    if (e) {
      found ??= e;
      invalid.delete(l);
    }
  }
  return found;
}

function countChar(s: string, c: string): number {
  let n = 0;
  for (let i = s.indexOf(c); i >= 0; i = s.indexOf(c, i + 1)) n++;
  return n;
}
