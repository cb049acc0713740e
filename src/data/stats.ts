/**
 * Per-split statistics of a data set (`slimtext data stats`): rows, labels, length in words, rows
 * skipped, and labels that the training split never shows. Streams every split in constant memory
 * (lengths go into a histogram, so the median is exact without keeping the rows).
 */
import { type Dataset, type ReadOptions, resolveSplit } from './dataset.js';
import { type UnseenLabelReport, naturalCompare } from './labelMap.js';

export interface SplitStats {
  rows: number;
  /** Distinct labels (a multi-label row's joined label counts as one, as the data sets count them). */
  labels: number;
  mean_words: number;
  median_words: number;
  max_words: number;
  min_words: number;
  /** Rows of the rarest and the commonest label (0 when unlabelled). */
  label_rows_min: number;
  label_rows_max: number;
  /** Bad rows skipped (only with skipBad; otherwise a bad row is an error). */
  skipped: number;
  /** Rows whose label the training split(s) do not have, and how many such labels (dev/test only). */
  unseen_label_rows?: number;
  unseen_labels?: number;
  /** Mean words of the second text, for pair data. */
  pair_mean_words?: number;
  /** Mean words of the reply, for message -> reply data. */
  target_mean_words?: number;
}

export interface DatasetStats {
  splits: Record<string, SplitStats>;
}

export interface StatsReport {
  stats: DatasetStats;
  /** One report per non-training split that has labels the training split lacks. */
  unseen: UnseenLabelReport[];
  /** The first few skipped rows per split, for messages. */
  skippedExamples: Record<string, string[]>;
}

export interface StatsOptions extends ReadOptions {
  /** Only this split (aliases allowed). */
  split?: string;
}

export async function datasetStats(ds: Dataset, opts: StatsOptions = {}): Promise<StatsReport> {
  let names = [...ds.splits];
  if (opts.split !== undefined) {
    const s = resolveSplit(ds.splits, opts.split);
    names = [s ?? opts.split]; // an unknown name fails in ds.read with the list of splits
  }
  // Training label sets are needed to report unseen labels even when only a test split is asked for.
  const trainOf = new Map(names.map((n) => [n, trainSplitsFor(ds.splits, n)]));
  const needed = [...new Set([...names, ...[...trainOf.values()].flat()])];
  const perSplit = new Map<string, Accumulator>();
  const skippedExamples: Record<string, string[]> = {};
  for (const name of needed) {
    const stream = ds.read(name, opts);
    const acc = new Accumulator();
    for await (const ex of stream) acc.add(ex.text, ex.label, ex.line, ex.pair, ex.target);
    acc.skipped = stream.skipped.count;
    if (stream.skipped.count > 0 && names.includes(name)) skippedExamples[name] = stream.skipped.first.map((e) => e.message);
    perSplit.set(name, acc);
  }
  const stats: DatasetStats = { splits: {} };
  const unseen: UnseenLabelReport[] = [];
  for (const name of names) {
    const acc = perSplit.get(name)!;
    const s = acc.summary();
    const trains = trainOf.get(name)!;
    if (trains.length > 0 && !trains.includes(name) && acc.labelRows.size > 0) {
      const known = new Set(trains.flatMap((t) => [...perSplit.get(t)!.labelRows.keys()]));
      const report: UnseenLabelReport = { split: name, rows: acc.rows, unseenRows: 0, unseen: [] };
      for (const [label, { rows, firstLine }] of acc.labelRows) {
        if (known.has(label)) continue;
        report.unseen.push({ label, rows, ...(firstLine !== undefined ? { firstLine } : {}) });
        report.unseenRows += rows;
      }
      report.unseen.sort((a, b) => b.rows - a.rows || naturalCompare(a.label, b.label));
      s.unseen_label_rows = report.unseenRows;
      s.unseen_labels = report.unseen.length;
      if (report.unseen.length > 0) unseen.push(report);
    }
    stats.splits[name] = s;
  }
  return { stats, unseen, skippedExamples };
}

/**
 * The training split(s) a split is checked against: `train` beside it (same folder prefix), plus
 * `oos_train` where the set keeps out-of-scope rows apart (CLINC150).
 */
export function trainSplitsFor(splits: readonly string[], split: string): string[] {
  const cut = split.lastIndexOf('/');
  const prefix = cut >= 0 ? split.slice(0, cut + 1) : '';
  const local = splits.filter((s) => s.startsWith(prefix) && !s.slice(prefix.length).includes('/')).map((s) => s.slice(prefix.length));
  const train = resolveSplit(local, 'train');
  if (train === undefined) return [];
  return [train, ...local.filter((s) => s === `oos_${train}`)].map((s) => prefix + s);
}

class Accumulator {
  rows = 0;
  skipped = 0;
  private words = 0;
  private pairWords = 0;
  private pairs = 0;
  private targetWords = 0;
  private targets = 0;
  private max = 0;
  private min = Infinity;
  /** hist[n] = rows with n words; grows to the longest row. */
  private hist = new Float64Array(64);
  readonly labelRows = new Map<string, { rows: number; firstLine?: number }>();

  add(text: string, label: string | undefined, line: number | undefined, pair: string | undefined, target: string | undefined): void {
    const n = wordCount(text);
    this.rows++;
    this.words += n;
    if (n > this.max) this.max = n;
    if (n < this.min) this.min = n;
    if (n >= this.hist.length) {
      const h = new Float64Array(Math.max(n + 1, this.hist.length * 2));
      h.set(this.hist);
      this.hist = h;
    }
    this.hist[n]!++;
    if (pair !== undefined) {
      this.pairs++;
      this.pairWords += wordCount(pair);
    }
    if (target !== undefined) {
      this.targets++;
      this.targetWords += wordCount(target);
    }
    if (label !== undefined) {
      const l = this.labelRows.get(label);
      if (l) l.rows++;
      else this.labelRows.set(label, line !== undefined ? { rows: 1, firstLine: line } : { rows: 1 });
    }
  }

  summary(): SplitStats {
    const counts = [...this.labelRows.values()].map((l) => l.rows);
    const s: SplitStats = {
      rows: this.rows,
      labels: this.labelRows.size,
      mean_words: this.rows ? round(this.words / this.rows) : 0,
      median_words: this.median(),
      max_words: this.max,
      min_words: this.rows ? this.min : 0,
      label_rows_min: counts.length ? Math.min(...counts) : 0,
      label_rows_max: counts.length ? Math.max(...counts) : 0,
      skipped: this.skipped,
    };
    if (this.pairs) s.pair_mean_words = round(this.pairWords / this.pairs);
    if (this.targets) s.target_mean_words = round(this.targetWords / this.targets);
    return s;
  }

  /** The median of the word counts (the mean of the two middle rows when the count is even). */
  private median(): number {
    if (this.rows === 0) return 0;
    const lo = Math.floor((this.rows - 1) / 2);
    const hi = Math.floor(this.rows / 2);
    let seen = 0;
    let a = -1;
    for (let n = 0; n < this.hist.length; n++) {
      seen += this.hist[n]!;
      if (a < 0 && seen > lo) a = n;
      if (seen > hi) return (a + n) / 2;
    }
    return a;
  }
}

/** Words as whitespace-separated tokens (what the data set papers count). */
export function wordCount(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x1680 || c === 0x202f || c === 0x205f || c === 0xfeff;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
