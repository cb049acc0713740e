/**
 * Training a DAN student (models/dan.ts) by sparse distillation:
 *   phase 'distill':   KL(teacher || student) x T^2 on the transfer set (teacher logits softened by
 *                      T), optionally plus hardWeight x cross-entropy on a labelled batch each step;
 *   phase 'finetune':  cross-entropy on the labelled data alone (optional);
 *   (no transfer set:  phase 'supervised', cross-entropy for `epochs`.)
 * Adam throughout (distillOptim.ts): lazy Adam rows for the n-gram table (its gradient is sparse:
 * only the rows a batch touched are read or written, so a step costs what the batch touches, not
 * the vocabulary; no weight decay on the table), AdamW on the dense layers; the learning rate decays
 * linearly to 0 over each phase. Dev accuracy after every epoch; `onEpoch` hears whether it is the
 * best so far (the caller saves then).
 *
 * Both cores: with `workers` > 1 the steps of an epoch are shared out to worker threads that update
 * one set of parameters and optimiser moments in SharedArrayBuffers without locks (Hogwild: sparse
 * steps rarely touch the same table rows; see distillHogwild.ts). Each thread runs single-threaded
 * kernels. With `workers` = 1 everything runs here, deterministically.
 */
import { Tensor, backward, crossEntropy, noGrad, Rng } from '../../engine/index.js';
import { distillLoss, gatherRows } from '../teacherLogits.js';
import { SlimtextError } from '../../errors.js';
import type { Bags, DanModel } from '../../models/dan.js';
import { argmaxRows } from '../../models/inference.js';
import { AdamState, SharedAdamW } from './optim.js';
import { runHogwildEpoch, startHogwild, type Hogwild } from './hogwild.js';
import type { ProgressSink } from '../progress.js';

export interface DistillRecipe {
  /** Epochs over the transfer set (or over the labelled set when there is no transfer set). */
  epochs: number;
  batchSize: number;
  /** Peak learning rate of the distillation (or supervised) phase. */
  lr: number;
  /** Softening temperature T of the teacher and student distributions (loss scaled by T^2). */
  temperature: number;
  /** Weight of hard-label cross-entropy on labelled batches mixed into each distillation step (0: none). */
  hardWeight: number;
  /** Cross-entropy epochs on the labelled data after distillation (0: none). */
  finetuneEpochs: number;
  finetuneLr: number;
  /** Decoupled weight decay of the dense layers (the table has none). */
  weightDecay: number;
  seed: number;
  /** Training threads (Hogwild when > 1; the model's parameters must then live in SharedArrayBuffers). */
  workers: number;
}

export const DEFAULT_DISTILL_RECIPE: Readonly<DistillRecipe> = Object.freeze({
  epochs: 4,
  batchSize: 64,
  lr: 2e-3,
  temperature: 1,
  hardWeight: 0,
  finetuneEpochs: 0,
  finetuneLr: 5e-4,
  weightDecay: 0.01,
  seed: 0,
  workers: 1,
});

export interface TransferSet {
  bags: Bags;
  /** Teacher logits, (n x C) row-major. */
  logits: Float32Array;
}

export interface LabelledSet {
  bags: Bags;
  labels: Int32Array;
}

export interface DistillSets {
  transfer?: TransferSet;
  /** Labelled training data (hard-label mixing, fine-tuning, or supervised training). */
  labelled?: LabelledSet;
  dev?: LabelledSet;
}

export type DistillPhase = 'distill' | 'finetune' | 'supervised';

export interface DistillEpoch {
  phase: DistillPhase;
  /** 0-based, counted within the phase. */
  epoch: number;
  loss: number;
  train_seconds: number;
  examples_per_s: number;
  dev_accuracy?: number;
}

export interface DistillHooks {
  progress?: ProgressSink;
  /** After every epoch; `best` is true when dev accuracy improved (or there is no dev set). */
  onEpoch?: (record: DistillEpoch, best: boolean) => void | Promise<void>;
}

export interface DistillResult {
  history: DistillEpoch[];
  best: DistillEpoch | undefined;
  trainSeconds: number;
  workers: number;
}

/** One phase's learning-rate schedule: linear decay from `peak` to 0 over `total` steps. */
export interface PhaseSpec {
  phase: DistillPhase;
  peak: number;
  total: number;
}

export async function distillDan(model: DanModel, sets: DistillSets, recipe: DistillRecipe, hooks: DistillHooks = {}): Promise<DistillResult> {
  checkRecipe(recipe);
  const C = model.config.numLabels;
  const phases: { phase: DistillPhase; epochs: number; lr: number }[] = [];
  if (sets.transfer) phases.push({ phase: 'distill', epochs: recipe.epochs, lr: recipe.lr });
  else if (sets.labelled) phases.push({ phase: 'supervised', epochs: recipe.epochs, lr: recipe.lr });
  else throw new SlimtextError('nothing to train on: give teacher logits over a transfer set, or labelled data');
  if (recipe.finetuneEpochs > 0) {
    if (!sets.labelled) throw new SlimtextError('fine-tuning epochs need labelled training data');
    if (sets.transfer) phases.push({ phase: 'finetune', epochs: recipe.finetuneEpochs, lr: recipe.finetuneLr });
  }
  checkSets(sets, C);
  const state = AdamState.forModel(model, recipe.workers > 1);
  const hogwild = recipe.workers > 1 ? await startHogwild(model, state, sets, recipe) : undefined;
  const history: DistillEpoch[] = [];
  let best: DistillEpoch | undefined;
  let trainSeconds = 0;
  try {
    for (const ph of phases) {
      const n = rowsOf(ph.phase === 'distill' ? sets.transfer!.bags : sets.labelled!.bags);
      const B = recipe.batchSize;
      const stepsPerEpoch = Math.ceil(n / B);
      const spec: PhaseSpec = { phase: ph.phase, peak: ph.lr, total: Math.max(1, stepsPerEpoch * ph.epochs) };
      state.reset();
      const opt = new SharedAdamW(model, state, spec, recipe.weightDecay);
      const hard = ph.phase === 'distill' && recipe.hardWeight > 0 && sets.labelled ? new Cycler(sets.labelled.labels.length, B, Rng.derive(recipe.seed, 'hard')) : undefined;
      for (let epoch = 0; epoch < ph.epochs; epoch++) {
        const order = Int32Array.from({ length: n }, (_, i) => i);
        Rng.derive(recipe.seed, `${ph.phase}/epoch-${epoch}`).shuffle(order);
        hooks.progress?.startEpoch(epoch, ph.epochs, stepsPerEpoch, 0);
        const t0 = performance.now();
        const report = (steps: number, lossSum: number) => {
          const secs = (performance.now() - t0) / 1000;
          hooks.progress?.step(steps, lossSum / Math.max(steps, 1), Math.min(n, steps * B) / Math.max(secs, 1e-9));
        };
        const { lossSum, steps } = hogwild
          ? await runHogwildEpoch(hogwild, spec, epoch, order, report)
          : await runStepsHere(model, opt, sets, ph.phase, order, recipe, hard, report);
        hooks.progress?.endEpoch();
        const secs = (performance.now() - t0) / 1000;
        trainSeconds += secs;
        const record: DistillEpoch = { phase: ph.phase, epoch, loss: lossSum / Math.max(steps, 1), train_seconds: round(secs), examples_per_s: Math.round(n / Math.max(secs, 1e-9)) };
        if (sets.dev) record.dev_accuracy = danAccuracy(model, sets.dev);
        const improved = sets.dev === undefined || best === undefined || record.dev_accuracy! > best.dev_accuracy!;
        if (improved) best = record;
        history.push(record);
        await hooks.onEpoch?.(record, improved);
      }
    }
  } finally {
    await hogwild?.close();
  }
  model.eval();
  return { history, best, trainSeconds: round(trainSeconds), workers: recipe.workers };
}

/**
 * The loss of one batch: KL to the teacher (plus hard-label CE when `hardRows` are given) in the
 * distillation phase, cross-entropy otherwise. Shared by this thread and the Hogwild workers.
 */
export function batchLoss(model: DanModel, sets: DistillSets, phase: DistillPhase, rows: Int32Array, recipe: DistillRecipe, hardRows: Int32Array | undefined): Tensor {
  const C = model.config.numLabels;
  if (phase === 'distill') {
    const t = sets.transfer!;
    // The soft rows go forward first (dropout draws in the order they always did).
    const soft = model.forward(gatherBags(t.bags, rows));
    const l = sets.labelled;
    const hard = hardRows && l ? { student: model.forward(gatherBags(l.bags, hardRows)), labels: gatherLabels(l.labels, hardRows), weight: recipe.hardWeight } : undefined;
    return distillLoss(soft, gatherRows(t.logits, C, rows), recipe.temperature, hard);
  }
  const l = sets.labelled!;
  return crossEntropy(model.forward(gatherBags(l.bags, rows)), gatherLabels(l.labels, rows));
}

/**
 * Runs the steps over `rows` (consecutive batches of batchSize), synchronously; `report` every 16
 * steps. What one Hogwild worker does with its share of an epoch.
 */
export function runSteps(model: DanModel, opt: SharedAdamW, sets: DistillSets, phase: DistillPhase, rows: Int32Array, recipe: DistillRecipe, hard: Cycler | undefined, report?: (steps: number, lossSum: number) => void): { steps: number; lossSum: number } {
  model.train();
  const B = recipe.batchSize;
  let lossSum = 0;
  let steps = 0;
  for (let s = 0; s * B < rows.length; s++) {
    const loss = batchLoss(model, sets, phase, rows.subarray(s * B, Math.min(rows.length, (s + 1) * B)), recipe, hard?.next());
    backward(loss);
    opt.step();
    lossSum += loss.item();
    steps++;
    if ((steps & 15) === 0) report?.(steps, lossSum);
  }
  return { steps, lossSum };
}

/** runSteps in this thread, yielding to the event loop between bursts (progress redraws, signals). */
async function runStepsHere(model: DanModel, opt: SharedAdamW, sets: DistillSets, phase: DistillPhase, order: Int32Array, recipe: DistillRecipe, hard: Cycler | undefined, report: (steps: number, lossSum: number) => void): Promise<{ steps: number; lossSum: number }> {
  const burst = recipe.batchSize * 32;
  let steps = 0;
  let lossSum = 0;
  for (let o = 0; o < order.length; o += burst) {
    const r = runSteps(model, opt, sets, phase, order.subarray(o, Math.min(order.length, o + burst)), recipe, hard);
    steps += r.steps;
    lossSum += r.lossSum;
    report(steps, lossSum);
    await new Promise((res) => setImmediate(res));
  }
  return { steps, lossSum };
}

/** Logits of every bag, (n x C), in eval mode, batched. */
export function danLogits(model: DanModel, bags: Bags, batch = 1024): Float32Array {
  const n = rowsOf(bags);
  const C = model.config.numLabels;
  const out = new Float32Array(n * C);
  const was = model.training;
  model.eval();
  try {
    noGrad(() => {
      for (let i = 0; i < n; i += batch) {
        const rows = Int32Array.from({ length: Math.min(batch, n - i) }, (_, k) => i + k);
        out.set(model.forward(gatherBags(bags, rows)).data, i * C);
      }
    });
  } finally {
    model.train(was);
  }
  return out;
}

/** Share of rows whose arg-max logit is the gold label. */
export function danAccuracy(model: DanModel, set: LabelledSet): number {
  const pred = argmaxRows(danLogits(model, set.bags), model.config.numLabels);
  let right = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === set.labels[i]) right++;
  return pred.length ? right / pred.length : 0;
}

/** The bags of some rows, as one CSR pair (copies whole bags, not elements). */
export function gatherBags(bags: Bags, rows: Int32Array): Bags {
  const off = bags.offsets;
  const offsets = new Int32Array(rows.length + 1);
  let nnz = 0;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    nnz += off[r + 1]! - off[r]!;
    offsets[k + 1] = nnz;
  }
  const ids = new Int32Array(nnz);
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    ids.set(bags.ids.subarray(off[r]!, off[r + 1]!), offsets[k]!);
  }
  return { ids, offsets };
}


function gatherLabels(labels: Int32Array, rows: Int32Array): Int32Array {
  const out = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = labels[rows[k]!]!;
  return out;
}

/** Endless shuffled batches of [0, n), reshuffled at each pass. */
export class Cycler {
  private order: Int32Array;
  private pos: number;

  constructor(private readonly n: number, private readonly batch: number, private readonly rng: Rng) {
    this.order = Int32Array.from({ length: n }, (_, i) => i);
    this.pos = n;
  }

  next(): Int32Array {
    if (this.pos >= this.n) {
      this.rng.shuffle(this.order);
      this.pos = 0;
    }
    const rows = this.order.subarray(this.pos, Math.min(this.n, this.pos + this.batch));
    this.pos += this.batch;
    return rows;
  }
}

export function rowsOf(b: Bags): number {
  return b.offsets.length - 1;
}

function checkRecipe(r: DistillRecipe): void {
  const fail = (opt: string, why: string): never => {
    throw new SlimtextError(`--${opt}: ${why}`);
  };
  const whole = (v: number, opt: string, min: number) => (Number.isInteger(v) && v >= min) || fail(opt, `must be a whole number >= ${min}, got ${v}`);
  whole(r.epochs, 'epochs', 1);
  whole(r.batchSize, 'batch-size', 1);
  whole(r.finetuneEpochs, 'finetune-epochs', 0);
  whole(r.workers, 'workers', 1);
  whole(r.seed, 'seed', 0);
  if (!(r.lr > 0)) fail('lr', `must be positive, got ${r.lr}`);
  if (!(r.finetuneLr > 0)) fail('finetune-lr', `must be positive, got ${r.finetuneLr}`);
  if (!(r.temperature > 0)) fail('temperature', `must be positive, got ${r.temperature}`);
  if (!(r.hardWeight >= 0)) fail('hard-weight', `must be >= 0, got ${r.hardWeight}`);
  if (!(r.weightDecay >= 0)) fail('weight-decay', `must be >= 0, got ${r.weightDecay}`);
}

function checkSets(sets: DistillSets, C: number): void {
  if (sets.transfer && sets.transfer.logits.length !== rowsOf(sets.transfer.bags) * C) {
    throw new SlimtextError(`teacher logits hold ${sets.transfer.logits.length} values; ${rowsOf(sets.transfer.bags)} transfer texts x ${C} classes need ${rowsOf(sets.transfer.bags) * C}`);
  }
  for (const [name, s] of [['labelled', sets.labelled], ['dev', sets.dev]] as const) {
    if (!s) continue;
    if (s.labels.length !== rowsOf(s.bags)) throw new SlimtextError(`${name} set: ${s.labels.length} labels for ${rowsOf(s.bags)} texts`);
    for (let i = 0; i < s.labels.length; i++) {
      const y = s.labels[i]!;
      // -1 in dev: a label the student cannot predict (reported by the caller), counted as wrong.
      if (!(y >= 0 && y < C) && !(name === 'dev' && y === -1)) throw new SlimtextError(`${name} set: row ${i} has label id ${y}, outside the student's ${C} classes`);
    }
  }
  const n = (sets.transfer ? rowsOf(sets.transfer.bags) : 0) + (sets.labelled ? rowsOf(sets.labelled.bags) : 0);
  if (n === 0) throw new SlimtextError('the training sets are empty');
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export type { Hogwild };
