import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpError } from '../../src/errors.js';
import {
  accuracy,
  classificationReport,
  confusionMatrix,
  expectedCalibrationError,
  macroF1,
  matthews,
  meanReciprocalRank,
  microF1,
  oosMetrics,
  perClass,
  rankByScore,
  recallAtK,
} from '../../src/eval/metrics.js';

const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-9, `${msg ?? ''} ${a} != ${b}`);

// Hand-worked case: gold 0,0,0,1,1,2; predicted 0,0,1,1,2,2.
const gold = [0, 0, 0, 1, 1, 2];
const pred = [0, 0, 1, 1, 2, 2];

test('confusion matrix: rows gold, columns predicted', () => {
  const cm = confusionMatrix(gold, pred);
  assert.equal(cm.k, 3);
  assert.deepEqual([...cm.counts], [2, 1, 0, 0, 1, 1, 0, 0, 1]);
  assert.equal(confusionMatrix([0], [0], 4).counts.length, 16);
  assert.throws(() => confusionMatrix([0, 5], [0, 1], 3), (e: unknown) => e instanceof OpError && /row 1: gold 5/.test(e.message));
  assert.throws(() => confusionMatrix([0, 1], [0]), (e: unknown) => e instanceof OpError && /gold has 2 rows, predictions 1/.test(e.message));
});

test('accuracy, per-class P/R/F1, macro- and micro-F1 against the hand-worked case', () => {
  close(accuracy(gold, pred), 4 / 6);
  const cm = confusionMatrix(gold, pred);
  const pc = perClass(cm);
  // class 0: P 2/2, R 2/3, F1 0.8; class 1: P 1/2, R 1/2, F1 0.5; class 2: P 1/2, R 1/1, F1 2/3.
  close(pc[0]!.precision, 1);
  close(pc[0]!.recall, 2 / 3);
  close(pc[0]!.f1, 0.8);
  close(pc[1]!.f1, 0.5);
  close(pc[2]!.precision, 0.5);
  close(pc[2]!.recall, 1);
  close(pc[2]!.f1, 2 / 3);
  assert.deepEqual(pc.map((c) => c.support), [3, 2, 1]);
  close(macroF1(cm), (0.8 + 0.5 + 2 / 3) / 3);
  close(microF1(cm), 4 / 6);
  const r = classificationReport(gold, pred);
  close(r.accuracy, 4 / 6);
  close(r.macro_f1, (0.8 + 0.5 + 2 / 3) / 3);
});

test('macro-F1 averages over classes present (or the labels given); micro-F1 over chosen labels', () => {
  // Class 2 is predicted but never gold: it counts with F1 0; class 1 and 3 occur nowhere.
  const cm = confusionMatrix([0, 0], [0, 2], 4);
  close(macroF1(cm), (2 / 3 + 0) / 2);
  close(macroF1(cm, [0]), 2 / 3);
  // Leaving out class 2 (say, out-of-scope): tp 1, fp 1 (gold 2 predicted 1), fn 1 (gold 1 predicted 2).
  close(microF1(confusionMatrix([0, 1, 2, 2], [0, 2, 2, 1]), [0, 1]), 0.5);
  assert.equal(macroF1(confusionMatrix([], [], 3)), 0);
});

test('Matthews correlation: multi-class hand value, binary formula, perfect and constant predictions', () => {
  // t = [3,2,1], p = [2,2,2], c = 4, s = 6: (24 - 12) / sqrt((36 - 12)(36 - 14)).
  close(matthews(confusionMatrix(gold, pred)), 12 / Math.sqrt(24 * 22));
  // Binary: TP 2, FN 1, TN 1, FP 1 -> (2*1 - 1*1) / sqrt(3*3*2*2) = 1/6.
  close(matthews(confusionMatrix([1, 1, 1, 0, 0], [1, 0, 1, 0, 1])), 1 / 6);
  close(matthews(confusionMatrix([0, 1, 2], [0, 1, 2])), 1);
  close(matthews(confusionMatrix([0, 1, 2], [1, 1, 1])), 0);
  close(matthews(confusionMatrix([0, 1, 0, 1], [1, 0, 1, 0])), -1);
});

test('recall@k and mean reciprocal rank', () => {
  const ranked = [[2, 0, 1], [1, 2, 0], [0, 1, 2]];
  const g = [0, 0, 0];
  close(recallAtK(ranked, g, 1), 1 / 3);
  close(recallAtK(ranked, g, 2), 2 / 3);
  close(recallAtK(ranked, g, 3), 1);
  close(meanReciprocalRank(ranked, g), (1 / 2 + 1 / 3 + 1) / 3);
  close(meanReciprocalRank([[1, 2]], [0]), 0);
  assert.throws(() => recallAtK(ranked, [0], 1), OpError);
  assert.deepEqual(rankByScore([0.1, 0.5, 0.4, 0.3, 0.3, 0.2], 2, 3).map((r) => [...r]), [[1, 2, 0], [0, 1, 2]]);
});

test('CLINC150 out-of-scope metrics: in-scope accuracy and oos recall/precision', () => {
  const oos = 3;
  const m = oosMetrics([0, 1, 3, 3, 3, 2], [0, 2, 3, 1, 3, 3], oos);
  close(m.in_scope_accuracy, 1 / 3);
  close(m.oos_recall, 2 / 3);
  close(m.oos_precision, 2 / 3);
  assert.equal(m.in_scope_rows, 3);
  assert.equal(m.oos_rows, 3);
});

test('expected calibration error: hand-worked bins; perfect calibration is 0', () => {
  // 2 bins. Rows (confidence, right): (.9, yes) (.8, no) (.6, yes) in (0.5, 1]; (.5 tie -> class 0, no) in [0, 0.5].
  // Upper: 3/4 * |2/3 - 2.3/3| = 0.075; lower: 1/4 * |0 - 0.5| = 0.125.
  const probs = [0.9, 0.1, 0.8, 0.2, 0.4, 0.6, 0.5, 0.5];
  close(expectedCalibrationError(probs, [0, 1, 1, 1], 2, 2), 0.2);
  close(expectedCalibrationError([1, 0, 0, 1], [0, 1], 2, 15), 0);
  // Always 70% sure and right 7 times in 10 is calibrated.
  const p = Array.from({ length: 10 }, () => [0.7, 0.3]).flat();
  close(expectedCalibrationError(p, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1], 2, 10), 0);
  assert.throws(() => expectedCalibrationError([0.5], [0], 2), (e: unknown) => e instanceof OpError && /expected \(1, 2\)/.test(e.message));
  assert.throws(() => expectedCalibrationError([1.5, -0.5], [0], 2), OpError);
});
