/**
 * `openDataset(path)`: one entry point for every labelled data set. The format comes from the path
 * (extension, file name, folder layout, a peek at the first bytes) unless `format` names it.
 *
 * A folder yields all its splits: files named train/dev/val/valid/test..., `seq.in` + `label`
 * subfolders, the splits inside a CLINC JSON or ConvLab zip, and data set folders one level down
 * (prefixed: BANKING77's `splits/train`). Where a folder holds several variants of one multi-split
 * set (CLINC150's data_full/data_small/...), the `full` one is read and the others named in `notes`.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { InputError } from '../errors.js';
import { agnewsSource, AGNEWS_CLASSES_FILE } from './agnews.js';
import { clincSources, type ClincOptions } from './clinc.js';
import { convlabSources, type ConvlabOptions } from './convlab.js';
import { type Dataset, type FormatName, type SplitSource, makeDataset, splitNameOf } from './dataset.js';
import { type Column, delimitedSource } from './delimited.js';
import { jsonlSource } from './jsonl.js';
import { plainSource, semicolonSource, trecSource } from './lineFormats.js';
import type { TextEncoding } from './lines.js';
import { seqInSource } from './seqIn.js';

export interface OpenOptions extends ClincOptions {
  /** ConvLab: message -> reply pairs (default) or single turns. */
  unit?: ConvlabOptions['unit'];
  /** A format name or alias (see FORMAT_ALIASES); detected from the path when absent. */
  format?: string;
  /** Columns (CSV/TSV: header name or 0-based index; JSONL: field name). */
  text?: Column | Column[];
  pair?: Column;
  /** The label column or field; false reads the file as unlabelled. ConvLab: 'act' | 'emotion' | 'topic'. */
  label?: Column | false;
  target?: Column;
  header?: boolean | 'auto';
  delimiter?: string;
  quote?: boolean;
  /** Text encoding (default UTF-8, except TREC: Latin-1). */
  encoding?: TextEncoding;
  /** TREC: keep `COARSE:fine` labels whole. */
  fineLabels?: boolean;
  /** Skip bad rows (reported by the caller) instead of stopping at the first. */
  skipBad?: boolean;
}

/** Every name `format` accepts, including the data sets whose format is one of the others. */
export const FORMAT_ALIASES: Readonly<Record<string, FormatName>> = {
  csv: 'csv',
  tsv: 'tsv',
  sst2: 'tsv',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  seqin: 'seqin',
  'seq.in': 'seqin',
  snips: 'seqin',
  atis: 'seqin',
  clinc: 'clinc',
  clinc150: 'clinc',
  convlab: 'convlab',
  dailydialog: 'convlab',
  trec: 'trec',
  semicolon: 'semicolon',
  emotion: 'semicolon',
  agnews: 'agnews',
  lines: 'lines',
  text: 'lines',
};

export function parseFormat(name: string, path: string): FormatName {
  const f = FORMAT_ALIASES[name.toLowerCase()];
  if (!f) throw new InputError(path, undefined, 'format', `unknown format '${name}' (known: ${Object.keys(FORMAT_ALIASES).join(', ')})`);
  return f;
}

export async function openDataset(path: string, opts: OpenOptions = {}): Promise<Dataset> {
  if (path.length > 1) path = path.replace(/[\\/]+$/, '');
  const forced = opts.format !== undefined ? parseFormat(opts.format, path) : undefined;
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new InputError(path, undefined, undefined, 'no such file or folder');
  if (st.isDirectory()) {
    const notes: string[] = [];
    const sources = await folderSources(path, forced, opts, notes, 0);
    if (sources.size === 0) throw new InputError(path, undefined, undefined, `no data files found in this folder${forced ? ` for format '${forced}'` : ''}; name a file, or pass a format`);
    return makeDataset(path, sources, notes);
  }
  const format = forced ?? (await detectFile(path));
  return makeDataset(path, await fileSources(path, format, opts));
}

/** The format of one file, from its name and first bytes. */
export async function detectFile(file: string): Promise<FormatName> {
  const name = basename(file);
  const ext = extname(name).toLowerCase();
  if (name === 'seq.in' || name === 'label') return 'seqin';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.zip') return 'convlab';
  if (ext === '.tsv') return 'tsv';
  if (ext === '.all' || /^trec/i.test(name)) return 'trec';
  const head = await peek(file, 1 << 16);
  const firstLine = head.split(/\r?\n/, 1)[0] ?? '';
  if (ext === '.csv') {
    const classes = await stat(join(dirname(file), AGNEWS_CLASSES_FILE)).catch(() => undefined);
    return classes && /^"?\d+"?,/.test(firstLine) ? 'agnews' : 'csv';
  }
  if (ext === '.json') {
    const t = head.trimStart();
    if (t.startsWith('[') && /"turns"\s*:/.test(t)) return 'convlab';
    if (/^\{\s*"[^"]*"\s*:\s*\[\s*(\]|\[\s*")/.test(t)) return 'clinc';
    throw new InputError(file, undefined, 'format', 'a JSON file that is neither CLINC-style ({split: [[text, intent], ...]}) nor ConvLab dialogues; pass a format');
  }
  if (ext === '.txt' || ext === '') {
    if (/^text;label/i.test(firstLine) || /^[^;]*\S[^;]*;\s*[\w/-]+\s*$/.test(firstLine)) return 'semicolon';
    return 'lines';
  }
  throw new InputError(file, undefined, 'format', `cannot tell the format of a '${ext}' file; pass one of: ${[...new Set(Object.values(FORMAT_ALIASES))].join(', ')}`);
}

/** The split sources one file holds: its own splits (CLINC, ConvLab) or one split named from the file. */
async function fileSources(file: string, format: FormatName, opts: OpenOptions): Promise<Map<string, SplitSource>> {
  const one = (src: SplitSource, name = splitNameOf(basename(file))) => new Map([[name, src]]);
  const cols = { text: opts.text, pair: opts.pair, label: opts.label, target: opts.target, encoding: opts.encoding };
  switch (format) {
    case 'clinc':
      return clincSources(file, opts);
    case 'convlab': {
      const label = opts.label;
      if (label !== undefined && label !== 'act' && label !== 'emotion' && label !== 'topic') throw new InputError(file, undefined, 'label', `ConvLab labels are act, emotion or topic, not '${String(label)}'`);
      return convlabSources(file, { unit: opts.unit, label });
    }
    case 'seqin': {
      const dir = ['seq.in', 'label'].includes(basename(file)) ? dirname(file) : file;
      return one(seqInSource(dir, { encoding: opts.encoding }), basename(dir));
    }
    case 'csv':
    case 'tsv':
      return one(delimitedSource(file, { ...cols, header: opts.header, quote: opts.quote, delimiter: opts.delimiter ?? (format === 'tsv' ? '\t' : ',') }));
    case 'jsonl': {
      const named = (c: Column | undefined) => (c === undefined ? undefined : String(c));
      return one(jsonlSource(file, { text: Array.isArray(opts.text) ? String(opts.text[0]) : named(opts.text), pair: named(opts.pair), label: opts.label === false ? false : named(opts.label), target: named(opts.target), encoding: opts.encoding }));
    }
    case 'trec':
      return one(trecSource(file, { encoding: opts.encoding, fineLabels: opts.fineLabels }));
    case 'semicolon':
      return one(semicolonSource(file, { encoding: opts.encoding }));
    case 'agnews':
      return one(await agnewsSource(file, { encoding: opts.encoding }));
    case 'lines':
      return one(plainSource(file, { encoding: opts.encoding }));
  }
}

/** Files in a data folder that describe the data rather than hold it. */
const NOT_DATA = /^(readme|license|licence|copying|notice|changelog)(\..*)?$|^(classes\.txt|categories\.json|domains\.json|ontology\.json)$/i;
const SPLIT_ORDER = ['train', 'dev', 'val', 'valid', 'validation', 'test'];

async function folderSources(dir: string, forced: FormatName | undefined, opts: OpenOptions, notes: string[], depth: number): Promise<Map<string, SplitSource>> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1));
  const names = new Set(entries.map((e) => e.name));
  const out = new Map<string, SplitSource>();
  const add = (name: string, src: SplitSource) => out.set(out.has(name) ? `${name}(${basename(src.file)})` : name, src);
  if (names.has('seq.in') && names.has('label') && (!forced || forced === 'seqin')) {
    add(basename(dir), seqInSource(dir, { encoding: opts.encoding }));
    return out;
  }
  const singles: [string, SplitSource][] = [];
  const multis: [string, Map<string, SplitSource>][] = [];
  const unlabelled: string[] = [];
  for (const e of entries) {
    if (!e.isFile() || NOT_DATA.test(e.name)) continue;
    const file = join(dir, e.name);
    let format: FormatName;
    try {
      format = await detectFile(file);
    } catch {
      notes.push(`${file}: skipped (not a data file this reader knows)`);
      continue;
    }
    if (forced && format !== forced) continue;
    if (format === 'lines' && !forced) {
      unlabelled.push(file);
      continue;
    }
    const srcs = await fileSources(file, format, opts);
    if (format === 'clinc' || format === 'convlab') multis.push([file, srcs]);
    else for (const [name, src] of srcs) singles.push([name, src]);
  }
  if (multis.length > 0) {
    const chosen = multis.find(([f]) => /full/i.test(basename(f))) ?? multis[0]!;
    for (const [name, src] of chosen[1]) add(name, src);
    const others = multis.filter((m) => m !== chosen).map(([f]) => basename(f));
    if (others.length) notes.push(`${dir}: read ${basename(chosen[0])}; the other variants (${others.join(', ')}) are read by their own path`);
  }
  for (const [name, src] of singles) add(name, src);
  for (const e of entries) {
    if (!e.isDirectory() || depth >= 2) continue;
    const sub = join(dir, e.name);
    const inner = await folderSources(sub, forced, opts, notes, depth + 1).catch((err: Error) => {
      notes.push(`${sub}: skipped (${err.message})`);
      return new Map<string, SplitSource>();
    });
    // A `train/` folder holding seq.in + label is the split `train`; deeper data sets keep their folder name.
    const direct = inner.size === 1 && inner.has(e.name);
    for (const [name, src] of inner) add(direct ? name : `${e.name}/${name}`, src);
  }
  if (out.size === 0 && unlabelled.length > 0) for (const f of unlabelled) add(splitNameOf(basename(f)), plainSource(f, { encoding: opts.encoding }));
  else if (unlabelled.length > 0) notes.push(`${dir}: unlabelled text (${unlabelled.map((f) => basename(f)).join(', ')}) is not a labelled split; read it by its own path`);
  return new Map([...out].sort(([a], [b]) => splitRank(a) - splitRank(b) || (a < b ? -1 : a > b ? 1 : 0)));
}

function splitRank(name: string): number {
  const last = name.split('/').pop()!;
  const i = SPLIT_ORDER.indexOf(last.replace(/^oos_/, ''));
  return (name.includes('/') ? 100 : 0) + (i < 0 ? 50 : i) + (last.startsWith('oos_') ? 0.5 : 0);
}

async function peek(file: string, bytes: number): Promise<string> {
  const fh = await open(file, 'r').catch(() => {
    throw new InputError(file, undefined, undefined, 'cannot open');
  });
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead).toString('latin1');
  } finally {
    await fh.close();
  }
}
