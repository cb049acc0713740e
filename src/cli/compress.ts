/**
 * `slimtext compress --model DIR --method int8|int4|f16|lowrank|pq|codes|prune|int8-linear[,..] [--mode
 * posthoc|retrain|joint] [--train PATH [--dev PATH]] [--teacher-logits FILE [--alpha A]] --out DIR`:
 * argument parsing only; the work is train/compress/compress.ts.
 */
import { type Command, UsageError, flag, num, req, str } from './command.js';
import { DATA_OPTIONS, dataOptions, setThreads } from './finetune.js';
import { DEFAULT_ALPHA, compressModel, type CompressMode } from '../train/compress/compress.js';
import { DEFAULT_SETTINGS, type CompressSettings } from '../train/compress/methods.js';
import { DEFAULT_TRAIN } from '../train/compress/train.js';

const NAME = 'compress';
const d = DEFAULT_SETTINGS;

export const command: Command = {
  name: NAME,
  summary:
    'Compress a model\'s embedding table (a DAN student\'s n-gram table, a transformer classifier\'s word embeddings): prune rows (DAN), then int8/int4/f16, low rank, product quantisation or additive codes; ' +
    'post-hoc, retraining the rest of the model (retrain) or training the table with the task (joint); int8-linear stores a transformer\'s encoder linear layers as int8.',
  usage: '--model DIR --method METHOD[,METHOD] [--qnorm] [--mode posthoc|retrain|joint] [--train PATH [--dev PATH]] [--teacher-logits FILE [--alpha A]] --out DIR [--overwrite] [--json]',
  options: {
    model: { type: 'string', help: 'the model folder to compress' },
    method: { type: 'string', help: 'f16, int8, int4, lowrank, pq, codes, prune; prune combines with one other (prune,pq); int8-linear (a transformer\'s encoder linear layers as int8) with any (pq,int8-linear)' },
    mode: { type: 'string', help: 'posthoc, retrain or joint (default: joint with --train, else posthoc)' },
    train: { type: 'string', help: 'labelled task data for retrain / joint' },
    dev: { type: 'string', help: 'dev data (default: the train data\'s dev split, if any)' },
    'teacher-logits': { type: 'string', help: 'retrain / joint of a DAN student: a logits file (slimtext label --corpus TRAIN, by the teacher the student was distilled from) over the --train texts; trains with distill\'s loss, alpha x KL + (1 - alpha) x cross-entropy' },
    alpha: { type: 'string', help: `with --teacher-logits: weight of the teacher term, in (0, 1] (default ${DEFAULT_ALPHA})` },
    'max-train': { type: 'string', default: '0', help: 'train on a seeded sample of at most N rows (0: all)' },
    epochs: { type: 'string', default: String(DEFAULT_TRAIN.epochs), help: 'retrain / joint epochs (the best on dev is kept)' },
    lr: { type: 'string', help: `AdamW learning rate (default: ${DEFAULT_TRAIN.lr} for a DAN, 2e-4 for a transformer)` },
    'fit-weights': { type: 'string', default: 'count', help: 'with --train: weigh rows by their count in it when fitting k-means / low rank (count) or not (none)' },
    'max-dev': { type: 'string', default: '0', help: 'evaluate dev on a seeded sample of at most N rows (0: all)' },
    'batch-size': { type: 'string', default: String(DEFAULT_TRAIN.batchSize), help: 'examples per step' },
    rank: { type: 'string', default: String(d.rank), help: 'lowrank: rank r of rows x r times r x dim' },
    'pq-dsub': { type: 'string', default: String(d.pqDsub), help: 'pq: sub-vector width (must divide the table width)' },
    'pq-bits': { type: 'string', default: String(d.pqBits), help: 'pq: 2^bits centroids per sub-vector' },
    qnorm: { type: 'boolean', help: "pq: quantise each row's norm apart (256 norms, one byte a row) and fit pq on unit rows (fastText's -qnorm)" },
    codebooks: { type: 'string', default: String(d.codebooks), help: 'codes: number of codebooks M' },
    'code-bits': { type: 'string', default: String(d.codeBits), help: 'codes: 2^bits codewords per codebook' },
    'codes-fit': { type: 'string', default: d.codesFit, help: 'codes: gumbel (codes learned with Gumbel-softmax, straight-through, then frozen) or kmeans (residual k-means)' },
    'codes-steps': { type: 'string', default: String(d.codesSteps), help: 'codes, gumbel: optimisation steps of the code learner' },
    'kmeans-iters': { type: 'string', default: String(d.kmeansIters), help: 'k-means iterations' },
    'prune-keep': { type: 'string', default: String(d.pruneKeep), help: 'prune: n-grams to keep' },
    'prune-by': { type: 'string', default: d.pruneBy, help: 'prune: rank n-grams by norm, frequency, or gradient (their task importance on --train: |gradient . row| summed over one pass)' },
    'prune-buckets': { type: 'string', default: String(d.pruneBuckets), help: 'prune: hash buckets the dropped n-grams fall into (0: skipped)' },
    seed: { type: 'string', default: String(d.seed), help: 'seed of k-means and training' },
    out: { type: 'string', help: 'the compressed model folder' },
    overwrite: { type: 'boolean', help: 'replace an existing --out' },
    threads: { type: 'string', help: 'threads the kernels may use' },
    json: { type: 'boolean', help: 'print one JSON object' },
    ...DATA_OPTIONS,
  },
  async run(args) {
    setThreads(args, NAME);
    const whole = (name: string): number => {
      const v = num(args, NAME, name);
      if (v === undefined || !(Number.isInteger(v) && v >= 0)) throw new UsageError(`${NAME}: --${name} must be a whole number >= 0, got ${str(args, name)}`);
      return v;
    };
    const mode = str(args, 'mode');
    if (mode !== undefined && !['posthoc', 'retrain', 'joint'].includes(mode)) throw new UsageError(`${NAME}: --mode must be posthoc, retrain or joint, got ${mode}`);
    const by = str(args, 'prune-by');
    if (by !== 'norm' && by !== 'frequency' && by !== 'gradient') throw new UsageError(`${NAME}: --prune-by must be norm, frequency or gradient, got ${by}`);
    const codesFit = str(args, 'codes-fit');
    if (codesFit !== 'gumbel' && codesFit !== 'kmeans') throw new UsageError(`${NAME}: --codes-fit must be gumbel or kmeans, got ${codesFit}`);
    const settings: CompressSettings = {
      rank: whole('rank'), pqDsub: whole('pq-dsub'), pqBits: whole('pq-bits'), qnorm: flag(args, 'qnorm'), codebooks: whole('codebooks'), codeBits: whole('code-bits'), codesFit, codesSteps: whole('codes-steps'),
      kmeansIters: whole('kmeans-iters'), kmeansSample: d.kmeansSample, pruneKeep: whole('prune-keep'), pruneBy: by, pruneBuckets: whole('prune-buckets'), seed: whole('seed'),
    };
    const lr = num(args, NAME, 'lr');
    const fit = str(args, 'fit-weights');
    if (fit !== 'count' && fit !== 'none') throw new UsageError(`${NAME}: --fit-weights must be count or none, got ${fit}`);
    const report = await compressModel({
      model: req(args, NAME, 'model'), methods: req(args, NAME, 'method'), mode: mode as CompressMode | undefined,
      train: str(args, 'train'), dev: str(args, 'dev'), data: dataOptions(args, NAME), maxTrain: whole('max-train'), maxDev: whole('max-dev'), fitWeights: fit,
      teacherLogits: str(args, 'teacher-logits'), alpha: num(args, NAME, 'alpha'),
      settings, epochs: whole('epochs'), lr, batchSize: whole('batch-size'), out: req(args, NAME, 'out'), overwrite: flag(args, 'overwrite'),
      log: (l) => console.error(l),
    });
    if (flag(args, 'json')) console.log(JSON.stringify(report));
    else {
      const mb = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
      console.log(`${report.out}: ${report.methods.join(',')} (${report.mode})`);
      console.log(`  model      ${mb(report.before.bytes_on_disk)} -> ${mb(report.after.bytes_on_disk)}`);
      console.log(`  embeddings ${mb(report.before.embedding_bytes)} -> ${mb(report.after.embedding_bytes)} (${(100 * (1 - report.embedding_ratio)).toFixed(2)}% smaller)`);
      if (report.after.linear_bytes !== report.before.linear_bytes) console.log(`  encoder linear layers ${mb(report.before.linear_bytes)} -> ${mb(report.after.linear_bytes)}`);
      if (report.before.dev_accuracy !== undefined) console.log(`  dev acc.   ${report.before.dev_accuracy.toFixed(4)} -> ${report.after.dev_accuracy!.toFixed(4)}`);
    }
    return 0;
  },
};
