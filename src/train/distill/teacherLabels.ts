/**
 * Teacher labelling (`slimtext label`): run a teacher over a transfer corpus and store its logits in
 * a logits file (io/logitsFile.ts), one row per distinct text, in corpus order.
 *
 * Batches go to the teacher as they fill; finished batches are appended in order and committed in
 * chunks, so an interrupted run resumes after its last commit: the corpus is streamed again, the
 * texts the file already covers are checked against its fingerprints (a changed corpus is an error,
 * not a silently misaligned file) and skipped, and labelling carries on. Texts seen before (in the
 * file or earlier in this run) are not labelled again.
 *
 * Both cores: a transformer teacher's matrix products run on the backend's BLAS threads; with
 * `workers` > 1 the batches instead go to a pool of worker threads, each holding its own copy of the
 * teacher and running single-threaded kernels (distillTeacherPool.ts).
 */
import { InputError, SlimtextError } from '../../errors.js';
import { checkOutputPath } from '../../io/outputPath.js';
import { LogitsWriter, readLogitsHeader, textFingerprint, type LogitsDType } from '../../io/logitsFile.js';
import { FingerprintTable } from '../../text/fingerprintTable.js';
import { corpusStamp, countTransferTexts, emptyCorpus, transferTexts } from './corpus.js';
import { checkSameTeacher } from '../teacherLogits.js';
import type { Teacher } from './teacher.js';

/** Something that labels batches, possibly several at once (a worker pool). */
export interface TeacherRunner {
  readonly labels: readonly string[];
  readonly info: Record<string, unknown>;
  /** Batches it can usefully have in flight at once. */
  readonly concurrency: number;
  run(texts: readonly string[]): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface LabelOptions {
  teacher: TeacherRunner | Teacher;
  /** Corpus specs (see distillCorpus.ts), streamed in this order. */
  corpus: readonly string[];
  out: string;
  /** Continue an interrupted run in `out` (default false: `out` must not exist unless overwrite). */
  resume?: boolean;
  overwrite?: boolean;
  /** Texts per teacher call (default 64). */
  batchSize?: number;
  /** Rows per committed chunk (default 2048): at most this many rows are redone after a crash. */
  chunkRows?: number;
  dtype?: LogitsDType;
  /** Label at most this many corpus texts (duplicates included); 0 = all. */
  maxTexts?: number;
  onProgress?: (p: LabelProgress) => void;
  /** Polled between batches: true stops after committing what is done (as an interruption would). */
  shouldStop?: () => boolean;
}

export interface LabelProgress {
  /** Corpus texts handled (labelled, duplicates, or skipped on resume). */
  done: number;
  total: number;
  rows: number;
  duplicates: number;
}

export interface LabelStats {
  out: string;
  /** Distinct texts in the file. */
  rows: number;
  /** Rows labelled by this call. */
  labelled: number;
  /** Repeated texts skipped by this call. */
  duplicates: number;
  /** Corpus texts in total (the run's end point). */
  total: number;
  finished: boolean;
  /** Rows already in the file when this call resumed it. */
  resumedRows: number;
  /** Bytes of a torn tail that resuming cut off. */
  droppedBytes: number;
  seconds: number;
  /** Texts labelled per second by this call. */
  textsPerSecond: number;
}

export const DEFAULT_LABEL_BATCH = 64;
export const DEFAULT_CHUNK_ROWS = 2048;

/** A runner that calls an in-process teacher, one batch at a time. */
export function inProcessRunner(t: Teacher): TeacherRunner {
  return {
    labels: t.labels,
    info: t.info,
    concurrency: 1,
    run: async (texts) => t.logits(texts),
    close: async () => undefined,
  };
}

export async function labelCorpus(opts: LabelOptions): Promise<LabelStats> {
  const runner = 'run' in opts.teacher ? opts.teacher : inProcessRunner(opts.teacher);
  try {
    return await label(opts, runner);
  } finally {
    // Worker threads would keep the process alive after an error.
    await runner.close();
  }
}

async function label(opts: LabelOptions, runner: TeacherRunner): Promise<LabelStats> {
  const B = opts.batchSize ?? DEFAULT_LABEL_BATCH;
  const chunkRows = opts.chunkRows ?? DEFAULT_CHUNK_ROWS;
  if (!(Number.isInteger(B) && B >= 1 && Number.isInteger(chunkRows) && chunkRows >= 1)) throw new SlimtextError(`batch size (${B}) and chunk rows (${chunkRows}) must be whole numbers >= 1`);
  const C = runner.labels.length;
  const t0 = performance.now();

  const stamp = corpusStamp(opts.corpus);
  let total = await countTransferTexts(opts.corpus);
  if (total === 0) throw emptyCorpus(opts.corpus);
  if (opts.maxTexts && opts.maxTexts > 0) total = Math.min(total, opts.maxTexts);

  const writer = openWriter(opts, runner, total);
  if (writer.commit.finished) {
    // A finished file: nothing left to label.
    const c = writer.commit;
    writer.close();
    return { out: opts.out, rows: c.rows, labelled: 0, duplicates: 0, total, finished: true, resumedRows: c.rows, droppedBytes: writer.droppedBytes, seconds: 0, textsPerSecond: 0 };
  }
  const seen = new FingerprintTable(1 << 16);
  // Committed rows by corpus position, to check the corpus against the file while skipping.
  let checkPos: Uint32Array = new Uint32Array(0);
  let checkFp: Uint32Array = new Uint32Array(0);
  const resumedRows = writer.commit.rows;
  if (resumedRows > 0) {
    const idx = writer.committedIndex();
    checkPos = idx.positions;
    checkFp = idx.fingerprints;
    // The table keys are int32: fingerprints go in as `| 0`.
    for (let r = 0; r < resumedRows; r++) seen.set(checkFp[2 * r]! | 0, checkFp[2 * r + 1]! | 0, 1);
  }
  const skip = writer.commit.consumed;

  let rowsNow = resumedRows;
  let labelled = 0;
  let duplicates = 0;
  let pos = 0;
  let stopped = false;
  const report = () => opts.onProgress?.({ done: pos, total, rows: rowsNow, duplicates });

  // Pending work: batches in flight (in order), and finished rows waiting for a chunk commit.
  interface Batch { texts: string[]; fps: number[]; positions: number[]; end: number; result?: Promise<Float32Array> }
  const inFlight: Batch[] = [];
  let chunk = new ChunkBuffer(C);
  let current: Batch = { texts: [], fps: [], positions: [], end: 0 };

  const collectOldest = async () => {
    const b = inFlight.shift()!;
    const logits = await b.result!;
    if (logits.length !== b.texts.length * C) throw new SlimtextError(`the teacher returned ${logits.length} logits for ${b.texts.length} texts x ${C} classes`);
    chunk.add(b.fps, b.positions, logits, b.end);
    labelled += b.texts.length;
    rowsNow += b.texts.length;
    if (chunk.rows >= chunkRows) commit(false);
    report();
  };
  const commit = (finished: boolean) => {
    const c = chunk.take();
    writer.append(c.fingerprints, c.positions, c.logits, finished ? pos : c.end, finished);
    chunk = new ChunkBuffer(C);
  };
  const dispatch = async () => {
    if (current.texts.length === 0) return;
    current.result = runner.run(current.texts);
    inFlight.push(current);
    current = { texts: [], fps: [], positions: [], end: 0 };
    while (inFlight.length > runner.concurrency) await collectOldest();
  };

  try {
    let lastReport = 0;
    let r = 0;
    for await (const text of transferTexts(opts.corpus)) {
      if (pos >= total) break;
      if (pos < skip) {
        // Already handled by the interrupted run: check the text is the one the file holds.
        if (r < checkPos.length && checkPos[r] === pos) {
          const [a, b] = textFingerprint(text);
          if (a !== checkFp[2 * r] || b !== checkFp[2 * r + 1]) {
            throw new InputError(opts.out, undefined, 'corpus', `corpus text #${pos} differs from the one labelled in this file: the corpus changed since the interrupted run (start again without --resume)`);
          }
          r++;
        }
        pos++;
        if (pos - lastReport >= 4096) {
          lastReport = pos;
          report();
        }
        continue;
      }
      const [a, b] = textFingerprint(text);
      if (seen.get(a | 0, b | 0) !== 0) duplicates++;
      else {
        seen.set(a | 0, b | 0, 1);
        current.texts.push(text);
        current.fps.push(a, b);
        current.positions.push(pos);
      }
      pos++;
      current.end = pos;
      if (current.texts.length >= B) {
        await dispatch();
        if (opts.shouldStop?.()) {
          stopped = true;
          break;
        }
      }
    }
    if (pos < skip) throw new InputError(opts.out, undefined, 'corpus', `the file covers ${skip} corpus texts but the corpus now holds only ${pos}: it changed since the interrupted run`);
    if (!stopped) await dispatch();
    while (inFlight.length) await collectOldest();
    if (corpusStamp(opts.corpus) !== stamp) {
      throw new InputError(opts.corpus.join(', '), undefined, 'corpus', 'a corpus file changed (size or modification time) during this labelling run: its rows may mix two versions; label again without --resume');
    }
    if (chunk.rows > 0 || !stopped) commit(!stopped && pos >= total);
    report();
  } finally {
    writer.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    out: opts.out,
    rows: rowsNow,
    labelled,
    duplicates,
    total,
    finished: !stopped && pos >= total,
    resumedRows,
    droppedBytes: writer.droppedBytes,
    seconds: Math.round(seconds * 1000) / 1000,
    textsPerSecond: Math.round(labelled / Math.max(seconds, 1e-9)),
  };
}

function openWriter(opts: LabelOptions, runner: TeacherRunner, total: number): LogitsWriter {
  const { exists } = checkOutputPath(opts.out, { kind: 'file', overwrite: opts.overwrite, resume: opts.resume ?? false });
  if (opts.resume && exists) {
    const { header } = readLogitsHeader(opts.out);
    if (JSON.stringify(header.corpus) !== JSON.stringify([...opts.corpus])) {
      throw new InputError(opts.out, undefined, 'corpus', `was labelled over ${JSON.stringify(header.corpus)}; resuming needs the same corpus, got ${JSON.stringify(opts.corpus)}`);
    }
    if (JSON.stringify(header.labels) !== JSON.stringify(runner.labels)) {
      throw new InputError(opts.out, undefined, 'labels', `was labelled by a teacher with labels ${JSON.stringify(header.labels)}; this teacher has ${JSON.stringify(runner.labels)}`);
    }
    checkSameTeacher(opts.out, header.teacher, runner.info.identity, `the teacher given (${String(runner.info.dir ?? 'this teacher')})`);
    const w = LogitsWriter.resume(opts.out);
    if (w.commit.consumed > total) {
      w.close();
      throw new InputError(opts.out, undefined, 'corpus', `the file covers ${w.commit.consumed} corpus texts but the corpus holds ${total}: it changed since the interrupted run`);
    }
    return w;
  }
  return LogitsWriter.create(opts.out, { labels: runner.labels, teacher: runner.info, corpus: opts.corpus, dtype: opts.dtype });
}

/** Finished rows waiting to be committed as one chunk. */
class ChunkBuffer {
  private fps: number[] = [];
  private pos: number[] = [];
  private parts: Float32Array[] = [];
  rows = 0;
  /** Corpus texts consumed once these rows are committed. */
  end = 0;

  constructor(private readonly C: number) {}

  add(fps: number[], positions: number[], logits: Float32Array, end: number): void {
    for (const f of fps) this.fps.push(f);
    for (const p of positions) this.pos.push(p);
    this.parts.push(logits);
    this.rows += positions.length;
    this.end = end;
  }

  take(): { fingerprints: Uint32Array; positions: Uint32Array; logits: Float32Array; end: number } {
    const logits = new Float32Array(this.rows * this.C);
    let o = 0;
    for (const p of this.parts) {
      logits.set(p, o);
      o += p.length;
    }
    return { fingerprints: Uint32Array.from(this.fps), positions: Uint32Array.from(this.pos), logits, end: this.end };
  }
}
