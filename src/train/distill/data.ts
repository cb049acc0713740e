/**
 * Reading a transfer set back: a logits file plus the corpus it indexes. The corpus is streamed
 * again (from the specs the file names, or others given in their place) and the text at every row's
 * position must have the row's fingerprint, so a file never pairs logits with the wrong texts.
 */
import { InputError } from '../../errors.js';
import { readLogitsFile, textFingerprint, type LogitsHeader } from '../../io/logitsFile.js';
import { transferTexts } from './corpus.js';

export interface TransferTexts {
  header: LogitsHeader;
  /** The labelled texts, one per row. */
  texts: string[];
  /** Teacher logits, (rows x classes). */
  logits: Float32Array;
  /** Things a user should know (an unfinished labelling run, a torn tail ignored). */
  notes: string[];
  /** The labelling run finished (false: these are the rows of an interrupted one). */
  finished: boolean;
}

/** The texts and teacher logits of a logits file; `corpus` replaces the specs the file names. */
export async function readTransferSet(path: string, corpus?: readonly string[]): Promise<TransferTexts> {
  const data = readLogitsFile(path);
  const specs = corpus ?? data.header.corpus;
  const notes: string[] = [];
  if (data.commit.rows === 0) throw new InputError(path, undefined, undefined, 'holds no labelled rows (the labelling run was interrupted before its first commit; resume it with slimtext label --resume)');
  if (!data.commit.finished) notes.push(`${path}: labelling stopped after ${data.commit.consumed} corpus texts (${data.commit.rows} rows); using those (finish it with slimtext label --resume)`);
  if (data.tornBytes > 0) notes.push(`${path}: ignored ${data.tornBytes} bytes after the last commit (an interrupted write)`);
  const texts: string[] = new Array(data.commit.rows);
  const { positions, fingerprints } = data;
  let r = 0;
  let pos = 0;
  try {
    for await (const text of transferTexts(specs)) {
      if (r >= positions.length) break;
      if (positions[r] === pos) {
        const [a, b] = textFingerprint(text);
        if (a !== fingerprints[2 * r] || b !== fingerprints[2 * r + 1]) {
          throw new InputError(path, undefined, 'corpus', `row ${r} was labelled for corpus text #${pos}, but that text in ${specs.join(', ')} is different: this logits file does not belong to this corpus (or the corpus changed since labelling)`);
        }
        texts[r++] = text;
      }
      pos++;
    }
  } catch (e) {
    // The header keeps the specs as label was given them: a relative path moves with the cwd.
    if (corpus === undefined && e instanceof InputError && e.file !== path && /no such (corpus )?file/.test(e.reason)) {
      throw new InputError(e.file, e.line, e.field, `${e.reason}: ${path} names its corpus as slimtext label was given it (relative to where label ran); pass --corpus with where it is now`);
    }
    throw e;
  }
  if (r < positions.length) {
    throw new InputError(path, undefined, 'corpus', `the file has rows up to corpus text #${positions[positions.length - 1]}, but ${specs.join(', ')} holds only ${pos} texts: this logits file does not belong to this corpus`);
  }
  return { header: data.header, texts, logits: data.logits, notes, finished: data.commit.finished };
}
