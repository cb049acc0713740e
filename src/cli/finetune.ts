/**
 * `slimtext finetune --model DIR --train PATH [--dev PATH] --task classify|pair|reply --out DIR`:
 * argument parsing only; the work is train/finetune/finetune.ts. Defaults come from train/recipe.ts.
 * Ctrl-C stops after the current step with a checkpoint, so `--resume` can continue the run.
 */
import { type Command, type ParsedArgs, UsageError, flag, num, req, str } from './command.js';
import { DATA_OPTIONS, dataOptions } from './dataOptions.js';
import { getBackend } from '../engine/index.js';
import { finetune } from '../train/finetune/finetune.js';
import { silentProgress, stderrProgress } from '../train/progress.js';
import { DEFAULT_RECIPE as R, DEFAULT_SETTINGS as S, type Recipe } from '../train/recipe.js';
import type { Pooling } from '../models/heads/pooling.js';
import type { Score } from '../models/heads/similarity.js';
import type { TaskKind } from '../models/taskModel.js';

const NAME = 'finetune';

/** Kept here too for command files that import them from finetune.js. */
export { DATA_OPTIONS, dataOptions } from './dataOptions.js';

export function setThreads(args: ParsedArgs, cmd: string): void {
  const t = num(args, cmd, 'threads');
  if (t === undefined) return;
  if (!Number.isInteger(t) || t < 1) throw new UsageError(`${cmd}: --threads must be a positive integer, got ${t}`);
  getBackend().setThreads(t);
}

export const command: Command = {
  name: NAME,
  summary:
    'Fine-tune a BERT checkpoint for classification (classify), text-pair classification (pair) or reply suggestion (reply, a bi-encoder ' +
    'trained with in-batch negatives), optionally dropping and freezing layers. Keeps the best-on-dev model in --out, with train_log.json.',
  usage: '--model DIR --train PATH [--dev PATH] --task classify|pair|reply --out DIR [options]',
  options: {
    model: { type: 'string', help: 'Hugging Face BERT checkpoint folder' },
    train: { type: 'string', help: 'training data (any format slimtext reads; a folder or multi-split file gives its train split)' },
    'train-split': { type: 'string', help: 'split of --train to train on' },
    dev: { type: 'string', help: "dev data (default: --train's dev split, else a seeded share of train held out)" },
    'dev-split': { type: 'string', help: 'split of the dev data' },
    task: { type: 'string', default: R.task, help: 'classify, pair or reply' },
    out: { type: 'string', help: 'output folder: the best model, train_log.json, and while unfinished checkpoint/' },
    epochs: { type: 'string', default: String(R.epochs), help: 'passes over the training data' },
    'batch-size': { type: 'string', default: String(R.batchSize), help: 'examples per step (reply: also the in-batch candidates)' },
    lr: { type: 'string', placeholder: 'X', help: `peak learning rate (AdamW); default by the checkpoint's width: 5e-4 up to 256, 1e-4 up to 512, else ${R.lr}` },
    warmup: { type: 'string', default: String(R.warmupRatio), help: 'share of steps warming the learning rate up; then linear decay to 0' },
    'weight-decay': { type: 'string', default: String(R.weightDecay), help: 'AdamW decoupled weight decay (not on biases and LayerNorms)' },
    'clip-norm': { type: 'string', default: String(R.clipNorm), help: 'global gradient-norm clipping' },
    'max-length': { type: 'string', default: String(R.maxLength), help: 'truncate to N tokens, special tokens included' },
    seed: { type: 'string', default: String(R.seed), help: 'seed for initialisation, dropout and data order' },
    'freeze-embeddings': { type: 'boolean', help: 'freeze the embeddings' },
    'freeze-layers': { type: 'string', default: String(R.freezeLayers), help: 'freeze the bottom K encoder layers (after dropping); with frozen embeddings their output is computed once and cached' },
    'drop-layers': { type: 'string', default: R.dropLayers, help: 'remove encoder layers first: top:K, bottom:K, alternate, or indices like 1,3' },
    'random-init': { type: 'boolean', help: "random weights in the checkpoint's shape (what pre-training buys)" },
    'no-pooler': { type: 'boolean', help: 'classify/pair: [CLS] straight to dropout and the classifier, without the pooler (implied by --pooling mean)' },
    'separate-encoders': { type: 'boolean', help: 'reply: separate message and reply encoders (default: shared weights)' },
    pooling: { type: 'string', default: R.pooling, help: 'sentence vector: the [CLS] token (cls) or the mean of the tokens (mean; no pooler); auto: cls to classify when the checkpoint has a trained pooler, else mean' },
    score: { type: 'string', default: R.score, help: 'reply: cosine or dot' },
    scale: { type: 'string', help: 'reply: score scale before the softmax (default 20 for cosine, 1 for dot)' },
    responses: { type: 'string', default: String(R.responses), help: 'reply: size of the reply set (most frequent normalised training replies)' },
    'max-train': { type: 'string', help: 'train on a seeded sample of at most N examples' },
    'max-dev': { type: 'string', help: 'evaluate on a seeded sample of at most N dev examples' },
    'dev-fraction': { type: 'string', default: String(R.devFraction), help: 'share of train held out as dev when the data has no dev split' },
    'eval-batch-size': { type: 'string', default: String(S.evalBatchSize), help: 'examples per evaluation batch' },
    'cache-mb': { type: 'string', default: String(S.cacheMb), help: 'memory for cached frozen-prefix features (0: no cache)' },
    'checkpoint-every': { type: 'string', default: String(S.checkpointEvery), help: 'also checkpoint every N steps (0: after each epoch only)' },
    'keep-checkpoint': { type: 'boolean', help: 'keep checkpoint/ after the run completes' },
    resume: { type: 'boolean', help: 'continue the interrupted run in --out (same options), exactly' },
    overwrite: { type: 'boolean', help: 'replace an existing model in --out (the old one stays usable until the new one is saved)' },
    threads: { type: 'string', help: 'threads the kernels may use (default: all cores)' },
    json: { type: 'boolean', help: 'print the run summary as JSON on stdout' },
    quiet: { type: 'boolean', help: 'no progress bar or per-epoch lines on stderr' },
    ...DATA_OPTIONS,
  },
  examples: [
    'finetune --model ../shared/models/bert-l4-h128-mlm --train ../shared/data/trec --out trec-model --lr 5e-4 --pooling mean',
    'finetune --model CHECKPOINT --train ../shared/data/trec --out trec-model --resume',
  ],
  async run(args) {
    const int = (name: string) => {
      const v = num(args, NAME, name);
      if (v !== undefined && !Number.isInteger(v)) throw new UsageError(`${NAME}: --${name} must be an integer, got ${v}`);
      return v;
    };
    const task = str(args, 'task') as TaskKind;
    const recipe: Partial<Recipe> = {
      task,
      epochs: int('epochs'), batchSize: int('batch-size'), lr: num(args, NAME, 'lr'), warmupRatio: num(args, NAME, 'warmup'),
      weightDecay: num(args, NAME, 'weight-decay'), clipNorm: num(args, NAME, 'clip-norm'), maxLength: int('max-length'), seed: int('seed'),
      freezeEmbeddings: flag(args, 'freeze-embeddings'), freezeLayers: int('freeze-layers'), dropLayers: str(args, 'drop-layers'),
      randomInit: flag(args, 'random-init'), usePooler: !flag(args, 'no-pooler'), sharedEncoder: !flag(args, 'separate-encoders'),
      pooling: str(args, 'pooling') as Pooling | 'auto', score: str(args, 'score') as Score, scale: num(args, NAME, 'scale'), responses: int('responses'),
      maxTrain: int('max-train'), maxDev: int('max-dev'), devFraction: num(args, NAME, 'dev-fraction'),
    };
    setThreads(args, NAME);
    const quiet = flag(args, 'quiet');
    let stop = false;
    const onSignal = () => {
      if (stop) process.exit(130);
      stop = true;
      console.error('\nslimtext finetune: stopping after this step (checkpointing); Ctrl-C again to quit at once');
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const r = await finetune({
        model: req(args, NAME, 'model'),
        train: req(args, NAME, 'train'),
        trainSplit: str(args, 'train-split'),
        dev: str(args, 'dev'),
        devSplit: str(args, 'dev-split'),
        out: req(args, NAME, 'out'),
        recipe,
        settings: { evalBatchSize: int('eval-batch-size'), cacheMb: num(args, NAME, 'cache-mb'), checkpointEvery: int('checkpoint-every'), keepCheckpoint: flag(args, 'keep-checkpoint') },
        data: dataOptions(args, NAME),
        resume: flag(args, 'resume'),
        overwrite: flag(args, 'overwrite'),
        progress: quiet ? silentProgress : stderrProgress(),
        warn: quiet ? undefined : (l) => console.error(l),
        shouldStop: () => stop,
      });
      const summary = {
        out: r.out, completed: r.completed, best_epoch: r.best?.epoch ?? null, dev: r.best?.metrics ?? null, steps: r.steps, total_steps: r.totalSteps,
        // train_seconds covers the whole run; wall_seconds and train_seconds_this_call this command only.
        train_seconds: r.trainSeconds, train_seconds_this_call: r.trainSecondsThisCall, wall_seconds: r.wallSeconds, resumed: r.resumedFrom !== undefined, epoch_seconds: r.history.map((e) => e.train_seconds), parameters: r.parameters,
        layers: r.layers, ...(r.cache ? { cache: r.cache } : {}), log: r.logFile,
      };
      if (flag(args, 'json')) console.log(JSON.stringify(summary));
      if (!r.completed) {
        console.error(`slimtext finetune: stopped after step ${r.steps} of ${r.totalSteps}; continue with the same command and --resume`);
        return 130;
      }
      if (!quiet) console.error(`best dev ${JSON.stringify(r.best?.metrics ?? {})} at epoch ${(r.best?.epoch ?? 0) + 1}; model in ${r.out}`);
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
