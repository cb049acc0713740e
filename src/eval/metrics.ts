/**
 * Classification and ranking metrics over predicted and gold class ids (0..K-1): accuracy,
 * per-class precision/recall/F1, macro- and micro-F1, Matthews correlation (multi-class),
 * confusion matrix, recall@k and mean reciprocal rank, CLINC150's in-scope accuracy and
 * out-of-scope recall, and expected calibration error.
 *
 * Conventions (those of scikit-learn, so numbers compare with papers): a class with no predictions
 * has precision 0, with no gold rows recall 0, and F1 0 when precision + recall is 0. Macro
 * averages run over the classes that occur in gold or predictions (`labels` names others).
 * Everything here is one pass over N predictions at evaluation time, not training's hot path.
 */
import { OpError } from '../errors.js';

export type Ids = ArrayLike<number>;

/** counts[t * k + p] = rows of gold class t predicted as p. */
export interface ConfusionMatrix {
  k: number;
  counts: Int32Array;
}

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** Gold rows of the class. */
  support: number;
}

export function confusionMatrix(gold: Ids, pred: Ids, k?: number): ConfusionMatrix {
  checkPair('confusionMatrix', gold, pred);
  const n = gold.length;
  let classes = k ?? 0;
  if (k === undefined) for (let i = 0; i < n; i++) classes = Math.max(classes, gold[i]! + 1, pred[i]! + 1);
  const counts = new Int32Array(classes * classes);
  for (let i = 0; i < n; i++) {
    const t = gold[i]!;
    const p = pred[i]!;
    if (!(Number.isInteger(t) && Number.isInteger(p) && t >= 0 && p >= 0 && t < classes && p < classes)) {
      throw new OpError('confusionMatrix', `row ${i}: gold ${t}, predicted ${p} outside classes 0..${classes - 1}`);
    }
    counts[t * classes + p]!++;
  }
  return { k: classes, counts };
}

export function accuracy(gold: Ids, pred: Ids): number {
  checkPair('accuracy', gold, pred);
  if (gold.length === 0) return 0;
  let right = 0;
  for (let i = 0; i < gold.length; i++) if (gold[i] === pred[i]) right++;
  return right / gold.length;
}

/** Precision, recall, F1 and support of every class 0..k-1. */
export function perClass(cm: ConfusionMatrix): ClassScores[] {
  const { k, counts } = cm;
  const out: ClassScores[] = [];
  for (let c = 0; c < k; c++) {
    let predicted = 0;
    let gold = 0;
    for (let j = 0; j < k; j++) {
      predicted += counts[j * k + c]!;
      gold += counts[c * k + j]!;
    }
    const tp = counts[c * k + c]!;
    const precision = predicted ? tp / predicted : 0;
    const recall = gold ? tp / gold : 0;
    out.push({ precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, support: gold });
  }
  return out;
}

/**
 * Unweighted mean F1 over classes: those that occur in gold or predictions, or exactly `labels`
 * (e.g. to leave out the out-of-scope class).
 */
export function macroF1(cm: ConfusionMatrix, labels?: readonly number[]): number {
  const scores = perClass(cm);
  const classes = labels ?? present(cm);
  if (classes.length === 0) return 0;
  return classes.reduce((s, c) => s + (scores[c]?.f1 ?? 0), 0) / classes.length;
}

/**
 * F1 from total true positives, false positives and false negatives over `labels` (all classes by
 * default, where it equals accuracy for single-label data).
 */
export function microF1(cm: ConfusionMatrix, labels?: readonly number[]): number {
  const { k, counts } = cm;
  const classes = labels ?? [...Array(k).keys()];
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const c of classes) {
    for (let j = 0; j < k; j++) {
      if (j === c) continue;
      fp += counts[j * k + c]!;
      fn += counts[c * k + j]!;
    }
    tp += counts[c * k + c]!;
  }
  return tp ? (2 * tp) / (2 * tp + fp + fn) : 0;
}

/** Matthews correlation for K classes (Gorodkin's R_K, scikit-learn's matthews_corrcoef): 1 perfect, 0 chance. */
export function matthews(cm: ConfusionMatrix): number {
  const { k, counts } = cm;
  const t = new Float64Array(k);
  const p = new Float64Array(k);
  let correct = 0;
  let n = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const v = counts[i * k + j]!;
      t[i]! += v;
      p[j]! += v;
      n += v;
    }
    correct += counts[i * k + i]!;
  }
  let tp = 0;
  let tt = 0;
  let pp = 0;
  for (let i = 0; i < k; i++) {
    tp += t[i]! * p[i]!;
    tt += t[i]! * t[i]!;
    pp += p[i]! * p[i]!;
  }
  const denom = Math.sqrt((n * n - pp) * (n * n - tt));
  return denom === 0 ? 0 : (correct * n - tp) / denom;
}

export interface ClassificationReport {
  accuracy: number;
  macro_f1: number;
  micro_f1: number;
  mcc: number;
  per_class: ClassScores[];
  confusion: ConfusionMatrix;
}

/** All single-label classification metrics at once. */
export function classificationReport(gold: Ids, pred: Ids, k?: number): ClassificationReport {
  const cm = confusionMatrix(gold, pred, k);
  return { accuracy: accuracy(gold, pred), macro_f1: macroF1(cm), micro_f1: microF1(cm), mcc: matthews(cm), per_class: perClass(cm), confusion: cm };
}

/**
 * Ranking: `ranked[i]` lists candidate ids for query i, best first; `gold[i]` is the right one.
 * recall@k = share of queries whose gold is in the top k.
 */
export function recallAtK(ranked: readonly Ids[], gold: Ids, k: number): number {
  if (ranked.length !== gold.length) throw new OpError('recallAtK', `ranked has ${ranked.length} queries, gold ${gold.length}`);
  if (!(k >= 1)) throw new OpError('recallAtK', `k must be >= 1, got ${k}`);
  if (gold.length === 0) return 0;
  let hit = 0;
  for (let i = 0; i < gold.length; i++) {
    const r = rankOf(ranked[i]!, gold[i]!);
    if (r >= 0 && r < k) hit++;
  }
  return hit / gold.length;
}

/** Mean of 1/rank of the gold candidate (0 for a query whose list lacks it). */
export function meanReciprocalRank(ranked: readonly Ids[], gold: Ids): number {
  if (ranked.length !== gold.length) throw new OpError('meanReciprocalRank', `ranked has ${ranked.length} queries, gold ${gold.length}`);
  if (gold.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < gold.length; i++) {
    const r = rankOf(ranked[i]!, gold[i]!);
    if (r >= 0) sum += 1 / (r + 1);
  }
  return sum / gold.length;
}

/** Ids of the candidates ordered by score, best first (ties: lower id first). Scores: (N, C) row-major. */
export function rankByScore(scores: ArrayLike<number>, n: number, c: number): Int32Array[] {
  if (scores.length !== n * c) throw new OpError('rankByScore', `scores has ${scores.length} values, expected (${n}, ${c})`);
  const out: Int32Array[] = [];
  for (let i = 0; i < n; i++) {
    const idx = Int32Array.from({ length: c }, (_, j) => j);
    const row = i * c;
    idx.sort((a, b) => scores[row + b]! - scores[row + a]! || a - b);
    out.push(idx);
  }
  return out;
}

export interface OosMetrics {
  /** Accuracy over rows whose gold class is in scope (the CLINC150 paper's "in-scope accuracy"). */
  in_scope_accuracy: number;
  /** Share of out-of-scope rows predicted out of scope (the paper's "out-of-scope recall"). */
  oos_recall: number;
  /** Share of out-of-scope predictions that are right. */
  oos_precision: number;
  in_scope_rows: number;
  oos_rows: number;
}

/** CLINC150's out-of-scope metrics; `oosId` is the id of the `oos` label. */
export function oosMetrics(gold: Ids, pred: Ids, oosId: number): OosMetrics {
  checkPair('oosMetrics', gold, pred);
  let inRows = 0;
  let inRight = 0;
  let oosRows = 0;
  let oosHit = 0;
  let oosPred = 0;
  for (let i = 0; i < gold.length; i++) {
    const g = gold[i]!;
    const p = pred[i]!;
    if (p === oosId) oosPred++;
    if (g === oosId) {
      oosRows++;
      if (p === oosId) oosHit++;
    } else {
      inRows++;
      if (p === g) inRight++;
    }
  }
  return {
    in_scope_accuracy: inRows ? inRight / inRows : 0,
    oos_recall: oosRows ? oosHit / oosRows : 0,
    oos_precision: oosPred ? oosHit / oosPred : 0,
    in_scope_rows: inRows,
    oos_rows: oosRows,
  };
}

/**
 * Expected calibration error with equal-width confidence bins: sum over bins of
 * (rows in bin / N) * |accuracy in bin - mean confidence in bin|, where a row's confidence is its
 * highest probability and its prediction that class (ties: lower id). `probs` is (N, C) row-major.
 * A confidence of exactly b/bins falls in the lower bin, as in Guo et al. (2017).
 */
export function expectedCalibrationError(probs: ArrayLike<number>, gold: Ids, classes: number, bins = 15): number {
  const n = gold.length;
  if (probs.length !== n * classes) throw new OpError('expectedCalibrationError', `probs has ${probs.length} values, expected (${n}, ${classes})`);
  if (!(Number.isInteger(bins) && bins >= 1)) throw new OpError('expectedCalibrationError', `bins must be a positive integer, got ${bins}`);
  if (n === 0) return 0;
  const count = new Float64Array(bins);
  const conf = new Float64Array(bins);
  const right = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (probs[i * classes + j]! > probs[i * classes + best]!) best = j;
    const c = probs[i * classes + best]!;
    if (!(c >= 0 && c <= 1)) throw new OpError('expectedCalibrationError', `row ${i}: confidence ${c} is not a probability`);
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    count[b]!++;
    conf[b]! += c;
    if (best === gold[i]) right[b]!++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]) ece += (count[b]! / n) * Math.abs(right[b]! / count[b]! - conf[b]! / count[b]!);
  return ece;
}

function present(cm: ConfusionMatrix): number[] {
  const { k, counts } = cm;
  const out: number[] = [];
  for (let c = 0; c < k; c++) {
    let any = false;
    for (let j = 0; j < k && !any; j++) any = counts[c * k + j]! > 0 || counts[j * k + c]! > 0;
    if (any) out.push(c);
  }
  return out;
}

function rankOf(list: Ids, id: number): number {
  for (let i = 0; i < list.length; i++) if (list[i] === id) return i;
  return -1;
}

function checkPair(op: string, gold: Ids, pred: Ids): void {
  if (gold.length !== pred.length) throw new OpError(op, `gold has ${gold.length} rows, predictions ${pred.length}`);
}
