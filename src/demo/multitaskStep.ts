/**
 * The demo's 'multitask' step: the spam task and a second task from the same npm emails (is the
 * email a reply? its Subject's 'Re:' taken out of the text, so the answer must come from the body:
 * quoted lines, "wrote:", list footers) as branches over one frozen trunk, then one model.
 *
 *   checkpoint  the fine-tuned teacher's encoder, written as a checkpoint (its embeddings and
 *               layers have read the emails; a scratch BERT's initial weights have not);
 *   branches    each task partially fine-tuned on it: embeddings and the bottom K layers frozen
 *               (the trunk), the top L layers and a head train (`finetune` with freeze options);
 *   distil      each branch distilled into a 1-layer branch on the same trunk (`distill --teacher`);
 *   merge       the two 1-layer branches in one model folder (`slimtext merge`): one trunk pass
 *               answers both tasks.
 * Trunk depth: K = D - 2 for a teacher of D >= 3 layers (branches of 2 layers, distilled to 1);
 * a 2-layer teacher keeps K = 1 and 1-layer branches (the distillation is then same-size).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { getBackend } from '../engine/index.js';
import { bundleFile, readBundle } from '../io/bundle.js';
import { writeHfCheckpoint } from '../io/hfCheckpoint.js';
import { loadMultiTask, type MultiTaskModel } from '../models/multiTask.js';
import { argmaxRows, classifierLogits, plainEncode } from '../models/inference.js';
import { loadTaskModel } from '../models/taskModel.js';
import { tokenizeAll, type TokenizedSet } from '../models/textBatch.js';
import type { SequenceClassifier } from '../models/classifier.js';
import { finetune } from '../train/finetune/finetune.js';
import { distillBranch } from '../train/multitask/branchDistill.js';
import { mergeBranches } from '../train/multitask/merge.js';
import { silentProgress, stderrProgress } from '../train/progress.js';
import { replyText, type Email } from './spamAssassin.js';
import type { DemoContext, DemoStep } from './pipeline.js';

export interface MultitaskSettings {
  /** Partial fine-tuning of each task's branch. */
  epochs: number;
  lr: number;
  /** Distillation of each branch into one layer. */
  distillEpochs: number;
  distillLr: number;
  batchSize: number;
}

export interface TaskFigures {
  labels: string[];
  /** Test accuracy of the partially fine-tuned branch (L layers), the 1-layer branch alone, and that task through the merged model. */
  teacher_branch_accuracy: number;
  branch_accuracy: number;
  merged_accuracy: number;
  /** Largest |logit difference| between the merged model and the standalone 1-layer branch. */
  max_abs_logit_difference: number;
  /** Share of the test emails with the more frequent label (the majority baseline). */
  majority: number;
}

export interface MultitaskReport {
  tasks: Record<string, TaskFigures>;
  trunk_layers: number;
  teacher_branch_layers: number;
  branch_layers: number;
  train_seconds: number;
  /** One text, both tasks: the merged model (one trunk pass) against the two 1-layer branch models run one after the other; CPU ms per text, tokenisation excluded for both. */
  serving: { merged_ms: number; separate_ms: number; ratio: number; layer_passes_merged: number; layer_passes_separate: number; texts: number };
  bytes: { merged: number; separate: number };
}

/** The demo's second task: labels of the emails' reply flag. */
export const REPLY_TASK = { name: 'reply', labels: { yes: 'reply', no: 'new' } } as const;

export const multitaskStep: DemoStep = {
  id: 'multitask',
  shows: () => 'multi-task: spam and a second task (is the email a reply? "Re:" taken out of the text) as branches on one frozen trunk of the teacher, each distilled to 1 layer, merged into one model: one trunk pass answers both',
  async run(ctx) {
    const s = ctx.settings.multitask;
    const t0 = performance.now();
    const ckpt = join(ctx.out, 'teacher-checkpoint');
    const D = await writeTeacherCheckpoint(join(ctx.out, 'teacher'), ckpt);
    const K = D >= 3 ? D - 2 : Math.max(0, D - 1);
    const L = D - K;
    const reply = await writeReplyData(ctx);
    const tasks = [
      { name: 'spam', files: ctx.files, texts: ctx.split!.test.map((e) => e.text), gold: ctx.split!.test.map((e) => e.label as string) },
      { name: REPLY_TASK.name, files: reply, texts: ctx.split!.test.map((e) => replyText(e.text)), gold: ctx.split!.test.map(replyLabel) },
    ];
    const progress = ctx.opts.bars ? stderrProgress() : silentProgress;
    const warn = (l: string) => ctx.log(`      ${l}`);
    const dirs: Record<string, { teacher: string; branch: string }> = {};
    for (const t of tasks) {
      const teacher = join(ctx.out, `branch-${t.name}`);
      const branch = join(ctx.out, `branch-${t.name}-1layer`);
      await finetune({
        model: ckpt, train: t.files.train, dev: t.files.dev, out: teacher, overwrite: true,
        recipe: {
          task: 'classify', pooling: 'mean', usePooler: false, freezeEmbeddings: true, freezeLayers: K,
          epochs: s.epochs, lr: s.lr, batchSize: s.batchSize, maxLength: ctx.settings.teacher.maxLength, seed: ctx.settings.seed,
        },
        progress, warn,
      });
      await distillBranch({
        teacher, studentLayers: 1, train: t.files.train, dev: t.files.dev, out: branch, overwrite: true,
        recipe: { epochs: s.distillEpochs, lr: s.distillLr, batchSize: s.batchSize, seed: ctx.settings.seed },
        progress, warn,
      });
      dirs[t.name] = { teacher, branch };
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const mergedDir = join(ctx.out, 'multitask');
    await mergeBranches(mergedDir, tasks.map((t) => ({ dir: dirs[t.name]!.branch, name: t.name })), { overwrite: true });
    const mt = await loadMultiTask(mergedDir);

    const figures: Record<string, TaskFigures> = {};
    const branches: SequenceClassifier[] = [];
    for (const t of tasks) {
      const set = tokenizeAll(mt.tokenizer, t.texts, undefined, mt.maxLength);
      const spec = mt.branch(t.name).spec;
      const merged = mt.logits(set, [mt.branch(t.name)], 64)[0]!;
      const alone = await classifierOf(dirs[t.name]!.branch);
      branches.push(alone);
      const standalone = classifierLogits(alone, set, 64, plainEncode(padOf(mt)));
      const teacherBranch = classifierLogits(await classifierOf(dirs[t.name]!.teacher), set, 64, plainEncode(padOf(mt)));
      const acc = (logits: Float32Array) => accuracy(logits, spec.labels, t.gold);
      let diff = 0;
      for (let i = 0; i < merged.length; i++) diff = Math.max(diff, Math.abs(merged[i]! - standalone[i]!));
      const top = Math.max(...spec.labels.map((l) => t.gold.filter((g) => g === l).length));
      figures[t.name] = {
        labels: [...spec.labels], teacher_branch_accuracy: round(acc(teacherBranch), 4), branch_accuracy: round(acc(standalone), 4),
        merged_accuracy: round(acc(merged), 4), max_abs_logit_difference: diff, majority: round(top / Math.max(t.gold.length, 1), 4),
      };
    }
    const serving = servingCost(mt, branches, tasks[0]!.texts, ctx.settings.measureSeconds);
    const bytesOf = async (dir: string) => Object.values((await readBundle(dir)).manifest.files).reduce((n, f) => n + f.bytes, 0);
    const rep: MultitaskReport = {
      tasks: figures, trunk_layers: K, teacher_branch_layers: L, branch_layers: 1, train_seconds: round(trainSeconds, 1),
      serving: { ...serving, layer_passes_merged: K + tasks.length, layer_passes_separate: tasks.length * (K + 1) },
      bytes: { merged: await bytesOf(mergedDir), separate: (await Promise.all(tasks.map((t) => bytesOf(dirs[t.name]!.branch)))).reduce((a, b) => a + b, 0) },
    };
    ctx.report.multitask = rep;
    ctx.models.push({ name: 'multi-task (spam + reply, one trunk)', dir: mergedDir });
    const per = tasks.map((t) => `${t.name} ${figures[t.name]!.merged_accuracy.toFixed(4)} (1-layer branch alone ${figures[t.name]!.branch_accuracy.toFixed(4)}; the ${L}-layer fine-tuned branch it learnt from ${figures[t.name]!.teacher_branch_accuracy.toFixed(4)})`).join(', ');
    ctx.log(`      merged model, trunk ${K} layer${K === 1 ? '' : 's'} + 2 x 1: ${per}; both tasks ${serving.merged_ms.toFixed(3)} ms vs two models ${serving.separate_ms.toFixed(3)} ms per text on one core (x${serving.ratio.toFixed(2)}, ${rep.serving.layer_passes_merged} vs ${rep.serving.layer_passes_separate} layer passes); ${round(trainSeconds, 1)} s of training`);
  },
};

/** The fine-tuned teacher's encoder as a Hugging Face checkpoint folder; returns its depth. */
async function writeTeacherCheckpoint(teacherDir: string, out: string): Promise<number> {
  const { model: tm } = await loadTaskModel(teacherDir);
  if (tm.task !== 'classify') throw new Error(`${teacherDir}: expected the demo's classifier teacher`);
  // Bundle files are content-named (vocab-<hash>.txt); the manifest maps logical names to them.
  const { manifest } = await readBundle(teacherDir);
  const file = (name: string) => bundleFile(teacherDir, manifest, name);
  const vocabFile = file('vocab.txt');
  if (!vocabFile) throw new Error(`${teacherDir}: the teacher has no vocab.txt`);
  const vocab = readFileSync(vocabFile, 'utf8').split('\n');
  if (vocab.at(-1) === '') vocab.pop();
  const cfg = file('tokenizer_config.json');
  const bert = tm.model.bert;
  await writeHfCheckpoint(out, {
    config: bert.config, weights: bert.toWeights(), vocab, configExtra: { initializer_range: 0.02 },
    ...(cfg ? { tokenizerConfig: JSON.parse(readFileSync(cfg, 'utf8')) as Record<string, unknown> } : {}),
  });
  return bert.config.numLayers;
}

function replyLabel(e: Email): string {
  return e.reply ? REPLY_TASK.labels.yes : REPLY_TASK.labels.no;
}

async function writeReplyData(ctx: DemoContext): Promise<{ train: string; dev: string; test: string }> {
  const files = { train: join(ctx.out, 'reply-train.jsonl'), dev: join(ctx.out, 'reply-dev.jsonl'), test: join(ctx.out, 'reply-test.jsonl') };
  for (const k of ['train', 'dev', 'test'] as const) {
    await writeFile(files[k], ctx.split![k].map((e) => JSON.stringify({ text: replyText(e.text), label: replyLabel(e) })).join('\n') + '\n');
  }
  return files;
}

async function classifierOf(dir: string): Promise<SequenceClassifier> {
  const { model: tm } = await loadTaskModel(dir);
  if (tm.task !== 'classify') throw new Error(`${dir}: expected a classifier`);
  tm.model.eval();
  return tm.model;
}

function padOf(mt: MultiTaskModel): number {
  return mt.tokenizer.padId >= 0 ? mt.tokenizer.padId : 0;
}

function accuracy(logits: Float32Array, labels: readonly string[], gold: readonly string[]): number {
  const p = argmaxRows(logits, labels.length);
  let right = 0;
  for (let i = 0; i < gold.length; i++) if (labels[p[i]!] === gold[i]) right++;
  return right / Math.max(gold.length, 1);
}

/**
 * Both tasks for one text at a time: the merged model against the two standalone branch models,
 * in alternating rounds (so both see the same load on a shared machine), as CPU time of this
 * process (the kernels run on one thread here) per text.
 */
function servingCost(mt: MultiTaskModel, separate: readonly SequenceClassifier[], texts: readonly string[], minSeconds: number): { merged_ms: number; separate_ms: number; ratio: number; texts: number } {
  const sets: TokenizedSet[] = texts.slice(0, 64).map((t) => tokenizeAll(mt.tokenizer, [t], undefined, mt.maxLength));
  const tasks = mt.select();
  const encode = plainEncode(padOf(mt));
  const merged = () => { for (const s of sets) mt.logits(s, tasks, 1); };
  const apart = () => { for (const s of sets) for (const m of separate) classifierLogits(m, s, 1, encode); };
  const cpu = (fn: () => void) => {
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
  const backend = getBackend();
  const threads = backend.threads();
  backend.setThreads(1);
  let m = 0, a = 0, n = 0;
  try {
    merged();
    apart(); // warm-up
    const t0 = performance.now();
    do {
      m += cpu(merged);
      a += cpu(apart);
      n += sets.length;
    } while ((performance.now() - t0) / 1000 < 2 * minSeconds);
  } finally {
    backend.setThreads(threads);
  }
  return { merged_ms: round(m / n, 4), separate_ms: round(a / n, 4), ratio: round(m / Math.max(a, 1e-9), 3), texts: sets.length };
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
