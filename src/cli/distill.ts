/**
 * `slimtext distill --teacher-logits PATH --train PATH --dev PATH --out DIR`: trains an n-gram DAN
 * student on a teacher's logits (train/distill/student.ts).
 * `slimtext distill --teacher BRANCH_DIR --student-layers l --train PATH --out DIR`: an l-layer
 * branch from an L-layer branch on the same frozen trunk (train/multitask/branchDistill.ts).
 * Argument parsing only.
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_SHAPE, MIN_AUTO_VOCAB, NGRAMS_PER_TEXT, distillStudent } from '../train/distill/student.js';
import { stderrProgress, silentProgress } from '../train/progress.js';
import { DEFAULT_DISTILL_RECIPE } from '../train/distill/sparseDistill.js';
import { DEFAULT_BRANCH_LOSS, distillBranch } from '../train/multitask/branchDistill.js';
import { DEFAULT_RECIPE } from '../train/recipe.js';
import { type Command, type ParsedArgs, UsageError, flag, num, str } from './command.js';
import { DATA_OPTIONS, dataOptions } from './dataOptions.js';

const NAME = 'distill';
const R = DEFAULT_DISTILL_RECIPE;
const S = DEFAULT_SHAPE;
const WORKERS = Math.max(1, availableParallelism());

export const command: Command = {
  name: NAME,
  summary:
    'Trains an n-gram DAN student (bag of 1..N-gram embeddings -> dense + tanh -> output) on teacher logits from slimtext label: ' +
    'KL(teacher || student) x T^2 on the transfer set, optionally mixed with hard-label cross-entropy, then optional fine-tuning on the labelled data. ' +
    'Keeps the best-on-dev student in --out (a model folder that slimtext eval / predict read), with distill_log.json. ' +
    'Branch mode (--teacher BRANCH_DIR --student-layers l): an l-layer branch from an L-layer branch on the same frozen, cached trunk (for slimtext merge), ' +
    'initialised from the teacher branch\'s bottom l layers and head, trained on T^2 x KL at T = 2 plus cross-entropy on --train (and KL alone on --corpus texts).',
  usage: '--teacher-logits PATH [--train PATH] [--dev PATH] --out DIR [options]  |  --teacher BRANCH_DIR --student-layers l --train PATH [--dev PATH] [--corpus TEXTS] --out DIR',
  options: {
    teacher: { type: 'string', help: 'with --teacher-logits: the model folder that made them (logits of any other teacher are refused); without it, branch mode: an L-layer branch model (finetune --freeze-embeddings --freeze-layers K) to distil into an l-layer branch on the same trunk' },
    'student-layers': { type: 'string', help: 'branch mode: layers of the student branch (initialised from the teacher branch\'s bottom l layers, its pooler and classifier)' },
    'soft-weight': { type: 'string', help: `branch mode: weight of T^2 x KL(teacher || student) (default ${DEFAULT_BRANCH_LOSS.softWeight})` },
    'max-train': { type: 'string', help: 'branch mode: use a seeded sample of at most N training examples' },
    'max-dev': { type: 'string', help: 'branch mode: use a seeded sample of at most N dev examples' },
    'max-corpus': { type: 'string', help: 'branch mode: use at most N --corpus texts' },
    'warmup': { type: 'string', help: `branch mode: share of steps warming the learning rate up (default ${DEFAULT_RECIPE.warmupRatio})` },
    resume: { type: 'boolean', help: 'branch mode: continue an interrupted run in --out' },
    'teacher-logits': { type: 'string', help: 'logits file written by slimtext label (without it: supervised training on --train)' },
    corpus: { type: 'string', multiple: true, help: 'corpus specs replacing the ones the logits file names (when the files moved)' },
    train: { type: 'string', help: 'labelled training data (any format slimtext reads): hard-label mixing, fine-tuning, vocabulary' },
    'train-split': { type: 'string', help: 'split of --train' },
    dev: { type: 'string', help: "dev data for choosing the best epoch (default: --train's dev split, else a seeded 10% of it)" },
    'dev-split': { type: 'string', help: 'split of --dev' },
    out: { type: 'string', help: 'output folder: the best student and distill_log.json' },
    overwrite: { type: 'boolean', help: 'replace an existing model in --out (the old one stays usable until the new one is saved)' },
    vocab: { type: 'string', help: 'n-gram vocabulary from slimtext ngrams build (default: built from the transfer and training texts)' },
    'max-vocab': { type: 'string', help: `most n-grams in a built vocabulary (default: ${NGRAMS_PER_TEXT} per text, at least ${MIN_AUTO_VOCAB.toLocaleString('en-US')}, at most ${S.maxVocab.toLocaleString('en-US')})` },
    'max-n': { type: 'string', default: String(S.maxN), help: 'longest n-gram, 1..4' },
    'min-count': { type: 'string', default: String(S.minCount), help: 'drop n-grams seen fewer times when building the vocabulary' },
    buckets: { type: 'string', default: String(S.buckets), help: 'hash buckets for n-grams outside the vocabulary (0: ignore them)' },
    dim: { type: 'string', default: String(S.dim), help: 'embedding width' },
    hidden: { type: 'string', default: String(S.hidden), help: 'width of the dense + tanh layer (0: none)' },
    'drop-ids': { type: 'string', default: String(S.dropIds), help: 'probability of dropping each n-gram id while training' },
    cased: { type: 'boolean', help: 'keep case and accents in the built vocabulary (default: lowercase and strip accents, as uncased BERT; as ngrams build --cased)' },
    epochs: { type: 'string', help: `distillation epochs over the transfer set (default ${R.epochs}; branch mode ${DEFAULT_RECIPE.epochs})` },
    'batch-size': { type: 'string', help: `texts per step (default ${R.batchSize}; branch mode ${DEFAULT_RECIPE.batchSize})` },
    lr: { type: 'string', help: `peak learning rate (Adam; linear decay to 0) (default ${R.lr}; branch mode ${1e-4})` },
    temperature: { type: 'string', help: `softening temperature T (loss x T^2) (default ${R.temperature}; branch mode ${DEFAULT_BRANCH_LOSS.temperature})` },
    'hard-weight': { type: 'string', help: `weight of hard-label cross-entropy on --train mixed into each step (0: none) (default ${R.hardWeight}; branch mode ${DEFAULT_BRANCH_LOSS.hardWeight})` },
    'finetune-epochs': { type: 'string', default: String(R.finetuneEpochs), help: 'cross-entropy epochs on --train after distillation' },
    'finetune-lr': { type: 'string', default: String(R.finetuneLr), help: 'peak learning rate of the fine-tuning pass' },
    'weight-decay': { type: 'string', default: String(R.weightDecay), help: 'decoupled weight decay of the dense layers' },
    seed: { type: 'string', help: `seed of initialisation, data order and id dropout (default ${R.seed}; branch mode ${DEFAULT_RECIPE.seed})` },
    workers: { type: 'string', default: String(WORKERS), help: 'training threads (Hogwild over shared parameters when > 1; 1 is deterministic)' },
    'table-dtype': { type: 'string', default: 'f32', help: 'store the n-gram table as f32 or f16 (half the size)' },
    pure: { type: 'boolean', help: "pure distillation (alpha = 1): learn the teacher's logits alone, no gold labels from --train (its dev split may still pick the best epoch)" },
    json: { type: 'boolean', help: 'print the run summary as JSON on stdout' },
    quiet: { type: 'boolean', help: 'no progress bar or per-epoch lines on stderr' },
    ...DATA_OPTIONS,
  },
  examples: [
    'distill --teacher-logits trec.logits --teacher trec-model --train ../shared/data/trec --out trec-dan',
    'distill --train intents.tsv --out intents-dan --table-dtype f16 --json',
  ],
  async run(args) {
    const number = (name: string, min: number, whole: boolean): number | undefined => {
      const v = num(args, NAME, name);
      if (v !== undefined && (!(v >= min) || (whole && !Number.isInteger(v)))) throw new UsageError(`${NAME}: --${name} must be ${whole ? 'a whole number' : 'a number'} >= ${min}, got ${v}`);
      return v;
    };
    const out = str(args, 'out');
    if (!out) throw new UsageError(`${NAME}: --out is required (see slimtext ${NAME} --help)`);
    if (str(args, 'teacher') !== undefined && str(args, 'teacher-logits') === undefined) return branchMode(args, out, number);
    for (const o of ['student-layers', 'soft-weight', 'max-train', 'max-dev', 'max-corpus', 'warmup', 'resume']) {
      if (args.values[o] !== undefined) throw new UsageError(`${NAME}: --${o} belongs to branch mode (--teacher BRANCH_DIR)`);
    }
    const logits = str(args, 'teacher-logits');
    const train = str(args, 'train');
    if (!logits && !train) throw new UsageError(`${NAME}: give --teacher-logits (from slimtext label), --train, or both`);
    const dtype = (str(args, 'table-dtype') ?? 'f32').toUpperCase();
    if (dtype !== 'F32' && dtype !== 'F16') throw new UsageError(`${NAME}: --table-dtype must be f32 or f16`);
    const quiet = flag(args, 'quiet');
    const corpus = args.values.corpus as string[] | undefined;
    const r = await distillStudent({
      teacherLogits: logits,
      teacher: str(args, 'teacher'),
      corpus: corpus?.length ? corpus : undefined,
      train,
      trainSplit: str(args, 'train-split'),
      dev: str(args, 'dev'),
      devSplit: str(args, 'dev-split'),
      data: dataOptions(args, NAME),
      out,
      overwrite: flag(args, 'overwrite'),
      pure: flag(args, 'pure'),
      vocab: str(args, 'vocab'),
      shape: {
        maxVocab: number('max-vocab', 1, true),
        maxN: number('max-n', 1, true),
        minCount: number('min-count', 1, true),
        buckets: number('buckets', 0, true),
        dim: number('dim', 1, true),
        hidden: number('hidden', 0, true),
        dropIds: number('drop-ids', 0, false),
        cased: flag(args, 'cased') || undefined,
      },
      recipe: {
        epochs: number('epochs', 1, true),
        batchSize: number('batch-size', 1, true),
        lr: number('lr', 0, false),
        temperature: number('temperature', 0, false),
        hardWeight: number('hard-weight', 0, false),
        finetuneEpochs: number('finetune-epochs', 0, true),
        finetuneLr: number('finetune-lr', 0, false),
        weightDecay: number('weight-decay', 0, false),
        seed: number('seed', 0, true),
        workers: number('workers', 1, true),
      },
      tableDtype: dtype,
      progress: quiet ? silentProgress : stderrProgress(),
      warn: quiet ? undefined : (l) => console.error(l),
    });
    const summary = {
      out: r.out,
      labels: r.labels.length,
      best: r.best ?? null,
      epochs: r.history,
      train_seconds: r.trainSeconds,
      wall_seconds: r.wallSeconds,
      vocab_size: r.vocabSize,
      parameters: r.parameters,
      bundle_bytes: r.bundleBytes,
      rows: r.rows,
      finished: r.transferFinished !== false,
      partial: r.transferFinished === false,
      log: `${r.out}/distill_log.json`,
    };
    // Always said, --quiet or not: a student of part of the transfer set is not the whole job.
    if (r.transferFinished === false) console.error(`slimtext ${NAME}: partial: ${logits} is from an unfinished labelling run; the student saw only its ${r.rows.transfer} rows (finish it with slimtext label --resume, then distill again)`);
    if (flag(args, 'json')) console.log(JSON.stringify(summary));
    else {
      const acc = r.best?.dev_accuracy !== undefined ? `, best dev accuracy ${r.best.dev_accuracy.toFixed(4)} (${r.best.phase} epoch ${r.best.epoch + 1})` : '';
      console.log(`student -> ${r.out}: ${r.vocabSize} n-grams, ${r.parameters.toLocaleString('en-US')} parameters, ${(r.bundleBytes / 2 ** 20).toFixed(1)} MiB${acc}; ${r.trainSeconds} s training, ${r.wallSeconds} s in all`);
    }
    return 0;
  },
};

/** `--teacher BRANCH_DIR --student-layers l`: branch distillation. */
async function branchMode(args: ParsedArgs, out: string, number: (name: string, min: number, whole: boolean) => number | undefined): Promise<number> {
  const train = str(args, 'train');
  if (!train) throw new UsageError(`${NAME}: branch mode needs --train (labelled data)`);
  const l = number('student-layers', 1, true);
  if (l === undefined) throw new UsageError(`${NAME}: branch mode needs --student-layers l`);
  const quiet = flag(args, 'quiet');
  const corpus = args.values.corpus as string[] | undefined;
  const r = await distillBranch({
    teacher: str(args, 'teacher')!,
    studentLayers: l,
    train,
    trainSplit: str(args, 'train-split'),
    dev: str(args, 'dev'),
    devSplit: str(args, 'dev-split'),
    corpus: corpus?.length ? corpus : undefined,
    maxCorpus: number('max-corpus', 0, true),
    out,
    overwrite: flag(args, 'overwrite'),
    resume: flag(args, 'resume'),
    data: dataOptions(args, NAME),
    recipe: {
      epochs: number('epochs', 1, true), batchSize: number('batch-size', 1, true), lr: number('lr', 0, false), seed: number('seed', 0, true),
      maxTrain: number('max-train', 0, true), maxDev: number('max-dev', 0, true), warmupRatio: number('warmup', 0, false),
    },
    loss: { temperature: number('temperature', 0, false), hardWeight: number('hard-weight', 0, false), softWeight: number('soft-weight', 0, false) },
    progress: quiet ? silentProgress : stderrProgress(),
    warn: quiet ? undefined : (line) => console.error(line),
  });
  const summary = {
    out: r.out, start_layer: r.startLayer, teacher_layers: r.teacherLayers, student_layers: r.studentLayers, best: r.best, teacher_dev: r.teacherDev,
    epochs: r.history, rows: r.rows, train_seconds: r.trainSeconds, wall_seconds: r.wallSeconds, completed: r.completed,
  };
  if (flag(args, 'json')) console.log(JSON.stringify(summary));
  else console.log(`branch -> ${r.out}: ${r.studentLayers} of ${r.teacherLayers} layers from layer ${r.startLayer}; best dev accuracy ${r.best?.metrics.accuracy?.toFixed(4) ?? '-'} (teacher ${r.teacherDev.accuracy?.toFixed(4)}); ${r.trainSeconds} s training, ${r.wallSeconds} s in all`);
  return r.completed ? 0 : 130;
}
