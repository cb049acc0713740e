/**
 * CLINC150-style JSON: `{split: [[text, intent], ...], ...}` with in-scope splits train/val/test
 * and out-of-scope splits oos_train/oos_val/oos_test whose rows are labelled `oos`. The split
 * names are the file's keys, in file order. With `oos: 'merge'` each oos_X joins X (the usual
 * set-up for training with an out-of-scope class).
 *
 * The file is parsed whole: a JSON object cannot be streamed without a streaming JSON parser, and
 * these files are a few MB (data_full.json: 9 MB, 23,700 rows).
 */
import { InputError } from '../errors.js';
import { type BadRow, type Example, type SplitSource, checkRow } from './dataset.js';
import { readJsonFile } from './jsonFile.js';

export interface ClincOptions {
  /** 'separate' (default): oos_train etc. are their own splits; 'merge': oos_X is read with X. */
  oos?: 'separate' | 'merge';
}

/** The label CLINC gives out-of-scope rows. */
export const OOS_LABEL = 'oos';

/** Split sources of a CLINC JSON file (reads the file once to learn its split names). */
export async function clincSources(file: string, opts: ClincOptions = {}): Promise<Map<string, SplitSource>> {
  const data = await loadClinc(file);
  const keys = Object.keys(data);
  const merge = opts.oos === 'merge';
  const sources = new Map<string, SplitSource>();
  for (const key of keys) {
    if (merge && key.startsWith('oos_') && keys.includes(key.slice(4))) continue;
    const parts = merge && keys.includes(`oos_${key}`) ? [key, `oos_${key}`] : [key];
    sources.set(key, { file, format: 'clinc', examples: (bad) => rows(file, data, parts, bad) });
  }
  return sources;
}

async function loadClinc(file: string): Promise<Record<string, unknown[]>> {
  const data = await readJsonFile(file);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new InputError(file, undefined, undefined, 'expected an object of splits, e.g. {"train": [[text, intent], ...]}');
  for (const [k, v] of Object.entries(data)) {
    if (!Array.isArray(v)) throw new InputError(file, undefined, k, 'expected a list of [text, intent] pairs');
  }
  return data as Record<string, unknown[]>;
}

async function* rows(file: string, data: Record<string, unknown[]>, parts: string[], bad: BadRow): AsyncGenerator<Example> {
  for (const part of parts) {
    const list = data[part]!;
    for (let i = 0; i < list.length; i++) {
      const row = list[i];
      if (!Array.isArray(row) || row.length !== 2 || typeof row[0] !== 'string' || typeof row[1] !== 'string') {
        bad(new InputError(file, undefined, `${part}[${i}]`, 'expected [text, intent] (two strings)'));
        continue;
      }
      const ex: Example = { text: row[0], label: row[1].trim() };
      if (checkRow(ex, file, bad, true, { text: `${part}[${i}][0]`, label: `${part}[${i}][1]` })) yield ex;
    }
  }
}
