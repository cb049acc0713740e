/**
 * The original AG News CSV (`"class","title","description"`, no header, classes 1-4) with its
 * `classes.txt` (one class name a line, class 1 first): the label is the class NAME, so the test
 * set's labels match the names used by `train-sample.tsv` (World, Sports, Business, Sci/Tech).
 * The text is title and description joined by a space, as the Hugging Face `ag_news` set does.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import type { SplitSource } from './dataset.js';
import { delimitedSource } from './delimited.js';
import type { TextEncoding } from './lines.js';

export const AGNEWS_CLASSES_FILE = 'classes.txt';

export async function agnewsSource(file: string, opts: { encoding?: TextEncoding } = {}): Promise<SplitSource> {
  const classesFile = join(dirname(file), AGNEWS_CLASSES_FILE);
  let names: string[];
  try {
    names = (await readFile(classesFile, 'utf8')).split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== '');
  } catch {
    throw new InputError(classesFile, undefined, undefined, 'AG News class ids need classes.txt beside the CSV (one class name a line)');
  }
  const src = delimitedSource(file, {
    header: false,
    label: 0,
    text: [1, 2],
    encoding: opts.encoding,
    mapLabel: (raw) => {
      const id = /^\d+$/.test(raw) ? Number(raw) : NaN;
      return id >= 1 && id <= names.length ? names[id - 1] : undefined;
    },
  });
  return { ...src, format: 'agnews' };
}
