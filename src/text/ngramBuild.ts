/**
 * Builds an n-gram vocabulary (the top K word 1..N-grams by frequency) over corpora of any size,
 * on every core and inside a memory budget:
 *   pass 1: corpus chunks go to worker threads, each counting fingerprints (ngramCount.ts) and
 *           pruning its rarest entries when its table is full; the tables are merged here;
 *   select: the K most frequent fingerprints (K * 1.25 when pruning made counts approximate);
 *   pass 2: the corpus again, counting those candidates exactly and recovering their strings;
 *   result: candidates with count >= minCount, most frequent first (ties in string order), cut to K.
 * Without pruning the result is exact. With pruning it is exact for every n-gram whose count is
 * clear of the cut by more than `maxUndercount`, which the vocabulary's metadata records.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { SlimtextError } from '../errors.js';
import { corpusBytes, corpusChunks } from '../data/corpus.js';
import { FingerprintTable, topEntries } from './fingerprintTable.js';
import { NgramCounter, type CountOptions, type CountTable, type Recount } from './ngramCount.js';
import { NgramVocab } from './ngramVocab.js';
import { startModuleWorker } from './workerThreads.js';

export interface NgramBuildOptions {
  /** Keep this many n-grams at most (the K of top-K). */
  maxVocab: number;
  /** Longest n-gram, 1..4 (default 4). */
  maxN?: number;
  /** Drop n-grams seen fewer times (default 1). */
  minCount?: number;
  /** Lowercase and strip accents, as uncased BERT (default true). */
  lowercase?: boolean;
  /** Worker threads (default: one per core); 0 counts in this thread. */
  workers?: number;
  /** Memory for the counting tables, all threads together, in MiB (default 1024). */
  memoryMb?: number;
  /** Entries each counting thread holds before pruning (default: from memoryMb); mainly for tests. */
  tableEntries?: number;
  onProgress?: (p: BuildProgress) => void;
}

export interface BuildProgress {
  pass: 1 | 2;
  /** Input bytes read so far in this pass, and in total per pass. */
  bytes: number;
  totalBytes: number;
  /** Sentences counted so far in this pass. */
  lines: number;
}

export interface NgramBuildStats {
  lines: number;
  words: number;
  /** Distinct n-grams held after pass 1 (all of them unless pruned). */
  distinct: number;
  candidates: number;
  pruned: boolean;
  maxUndercount: number;
  workers: number;
  countSeconds: number;
  recountSeconds: number;
  /** Largest resident set seen during the build (process.memoryUsage().rss, workers included), MiB. */
  peakRssMb: number;
}

/** Worker threads by default: one per core (the build saturates whatever it is given). */
export const DEFAULT_WORKERS = Math.max(1, availableParallelism());

export async function buildNgramVocab(sources: readonly string[], opts: NgramBuildOptions): Promise<{ vocab: NgramVocab; stats: NgramBuildStats }> {
  const maxN = opts.maxN ?? 4;
  const minCount = opts.minCount ?? 1;
  const lowercase = opts.lowercase ?? true;
  const K = opts.maxVocab;
  const W = opts.workers ?? DEFAULT_WORKERS;
  const budget = (opts.memoryMb ?? 1024) * 2 ** 20;
  if (!(Number.isInteger(K) && K >= 1)) throw new SlimtextError(`maxVocab must be a whole number >= 1, got ${K}`);
  if (!(maxN >= 1 && maxN <= 4)) throw new SlimtextError(`maxN must be 1..4, got ${maxN}`);
  // Half the budget for the per-thread tables, half for the merged one.
  const mergeEntries = entriesFor(budget / 2);
  const totalBytes = corpusBytes(sources);
  // Text holds about one distinct 1..4-gram per 4 bytes (5.3M in the 20 MB of the shared corpora);
  // each thread sees most of them (rare n-grams rarely repeat across threads). Starting the tables
  // that big saves their rehashes on the way up.
  const countOpts: CountOptions = {
    maxN,
    lowercase,
    maxEntries: opts.tableEntries ?? entriesFor(budget / 2 / Math.max(W, 1)),
    initialEntries: Math.ceil(((totalBytes / 4) * maxN) / 4),
  };
  if (mergeEntries < 2 * Math.ceil(K * 1.25)) {
    throw new SlimtextError(`a memory budget of ${opts.memoryMb ?? 1024} MiB is too small for ${K} n-grams (give it at least ${Math.ceil((K * 320) / 2 ** 20)} MiB)`);
  }
  let peakRss = process.memoryUsage().rss;
  const sampleRss = () => {
    const r = process.memoryUsage().rss;
    if (r > peakRss) peakRss = r;
  };
  const sampler = setInterval(sampleRss, 50);
  sampler.unref();
  const progress = (p: BuildProgress) => {
    sampleRss();
    opts.onProgress?.(p);
  };
  const ports: CounterPort[] = W === 0 ? [new LocalPort(countOpts)] : Array.from({ length: W }, () => new WorkerPort(countOpts));
  try {
    // Pass 1: count.
    const t0 = performance.now();
    await runPass(ports, sources, 1, totalBytes, progress, (p, text) => p.count(text));
    const merge = mergeTables(await Promise.all(ports.map((p) => p.result())), mergeEntries);
    const { lines, words, maxUndercount, distinct } = merge;
    const pruned = merge.prunes > 0;
    sampleRss();
    const countSeconds = (performance.now() - t0) / 1000;

    // Select candidates (the merged table is dropped here, before pass 2 allocates its own).
    const M = pruned ? Math.ceil(K * 1.25) : K;
    const { ck1, ck2 } = chooseCandidates(merge.table, M, pruned ? Math.max(1, minCount - maxUndercount) : minCount);
    merge.table = new FingerprintTable(16);

    // Pass 2: exact counts and strings of the candidates.
    const t1 = performance.now();
    await Promise.all(ports.map((p) => p.setCandidates(ck1, ck2)));
    await runPass(ports, sources, 2, totalBytes, progress, (p, text) => p.recount(text));
    const { exact, strings } = await collectRecounts(ports, ck1.length);
    const recountSeconds = (performance.now() - t1) / 1000;
    const { ngrams, counts } = rank(exact, strings, minCount, K);
    sampleRss();
    const vocab = new NgramVocab(ngrams, counts, { maxN, lowercase, minCount, lines, words, approximate: pruned, maxUndercount, sources: [...sources] });
    return {
      vocab,
      stats: { lines, words, distinct, candidates: ck1.length, pruned, maxUndercount, workers: W, countSeconds, recountSeconds, peakRssMb: (sampleRss(), peakRss / 2 ** 20) },
    };
  } finally {
    clearInterval(sampler);
    await Promise.all(ports.map((p) => p.close()));
  }
}

// ------------------------------------------------------------------------------------------------

/** Adds the threads' pass-1 tables into the largest of them, pruning past `maxEntries`. */
function mergeTables(tables: PassResult[], maxEntries: number) {
  let lines = 0;
  let words = 0;
  let maxUndercount = 0;
  let prunes = 0;
  tables.sort((a, b) => b.size - a.size);
  const table = FingerprintTable.fromSlots(tables[0]!.slots, tables[0]!.size);
  for (const t of tables) {
    lines += t.lines;
    words += t.words;
    // Thresholds add up across threads: each thread's count of an n-gram can be short by its own.
    maxUndercount += t.maxUndercount;
    prunes += t.prunes;
    if (t === tables[0]) continue;
    let worst = 0;
    table.addAll(t.slots, () => {
      if (table.size > maxEntries) {
        worst = Math.max(worst, table.prune(Math.floor(maxEntries / 2)));
        prunes++;
      }
    });
    maxUndercount += worst; // an n-gram is dropped at most once while one table is added
    t.slots = new Int32Array(0);
  }
  return { table, lines, words, maxUndercount, prunes, distinct: table.size };
}

/** The fingerprints of the `m` most frequent entries with count >= `min`. */
function chooseCandidates(table: FingerprintTable, m: number, min: number): { ck1: Int32Array; ck2: Int32Array } {
  const entries = table.entries();
  const pick = topEntries(entries.k1, entries.k2, entries.val, m, min);
  const ck1 = new Int32Array(pick.length);
  const ck2 = new Int32Array(pick.length);
  pick.forEach((e, i) => {
    ck1[i] = entries.k1[e]!;
    ck2[i] = entries.k2[e]!;
  });
  return { ck1, ck2 };
}

/**
 * Sums the threads' exact counts; strings come from the first thread, then only the ones it never
 * met from the others (each thread meets nearly every candidate; copying them all twice is waste).
 */
async function collectRecounts(ports: CounterPort[], m: number): Promise<{ exact: Uint32Array; strings: (string | undefined)[] }> {
  const exact = new Uint32Array(m);
  const strings = new Array<string | undefined>(m);
  let missing: Int32Array | undefined;
  for (const p of ports) {
    const r = await p.recountResult(missing);
    for (let i = 0; i < m; i++) exact[i]! += r.exact[i]!;
    for (let i = 0; i < r.idx.length; i++) strings[r.idx[i]!] ??= r.strings[i];
    const miss: number[] = [];
    for (let i = 0; i < m; i++) if (strings[i] === undefined) miss.push(i);
    missing = Int32Array.from(miss);
  }
  return { exact, strings };
}

/** Most frequent first, equal counts in string order (so threads cannot change the result); top k. */
function rank(exact: Uint32Array, strings: (string | undefined)[], minCount: number, k: number): { ngrams: string[]; counts: number[] } {
  const byCount = new Map<number, string[]>();
  for (let i = 0; i < exact.length; i++) {
    const s = strings[i];
    if (s === undefined || exact[i]! < minCount) continue;
    const group = byCount.get(exact[i]!);
    if (group) group.push(s);
    else byCount.set(exact[i]!, [s]);
  }
  const ngrams: string[] = [];
  const counts: number[] = [];
  for (const c of [...byCount.keys()].sort((a, b) => b - a)) {
    for (const s of byCount.get(c)!.sort()) {
      if (ngrams.length >= k) break;
      ngrams.push(s);
      counts.push(c);
    }
  }
  return { ngrams, counts };
}

/** Most entries a FingerprintTable may hold within `bytes` (12 bytes a slot, 3/4 full, some slack). */
function entriesFor(bytes: number): number {
  let slots = 1 << 16;
  while (slots * 2 * 12 <= bytes) slots *= 2;
  return Math.floor(slots * 0.75) - 4096;
}

/** Streams the corpora through the counters, at most two chunks in flight per counter. */
async function runPass(
  ports: CounterPort[],
  sources: readonly string[],
  pass: 1 | 2,
  totalBytes: number,
  onProgress: ((p: BuildProgress) => void) | undefined,
  send: (p: CounterPort, text: string) => Promise<void>,
): Promise<void> {
  let bytes = 0;
  let lines = 0;
  let failure: unknown;
  const waiters: (() => void)[] = [];
  const pending = new Set<Promise<void>>();
  const wake = () => waiters.splice(0).forEach((w) => w());
  for await (const chunk of corpusChunks(sources)) {
    if (failure !== undefined) break;
    bytes += chunk.bytes;
    if (chunk.lines === 0) continue;
    let port = leastBusy(ports);
    while (port.inflight >= 2 && failure === undefined) {
      await new Promise<void>((r) => waiters.push(r));
      port = leastBusy(ports);
    }
    if (failure !== undefined) break;
    port.inflight++;
    const done = send(port, chunk.text).then(
      () => {
        port.inflight--;
        lines += chunk.lines;
        onProgress?.({ pass, bytes, totalBytes, lines });
        wake();
      },
      (e: unknown) => {
        failure ??= e;
        wake();
      },
    );
    pending.add(done);
    void done.finally(() => pending.delete(done));
  }
  await Promise.all(pending);
  if (failure !== undefined) throw failure;
  onProgress?.({ pass, bytes: totalBytes, totalBytes, lines });
}

function leastBusy(ports: CounterPort[]): CounterPort {
  let best = ports[0]!;
  for (const p of ports) if (p.inflight < best.inflight) best = p;
  return best;
}

type PassResult = CountTable & { lines: number; words: number };

interface CounterPort {
  inflight: number;
  count(text: string): Promise<void>;
  result(): Promise<PassResult>;
  setCandidates(k1: Int32Array, k2: Int32Array): Promise<void>;
  recount(text: string): Promise<void>;
  /** Counts of all candidates; strings of those met, or only of `only` when given. */
  recountResult(only?: Int32Array): Promise<Recount>;
  close(): Promise<void>;
}

/** Counting in this thread (workers: 0), for small inputs and tests. */
class LocalPort implements CounterPort {
  inflight = 0;
  private readonly c: NgramCounter;
  constructor(opts: CountOptions) {
    this.c = new NgramCounter(opts);
  }
  async count(text: string) {
    this.c.count(text);
  }
  async result() {
    return { ...this.c.result(), lines: this.c.lines, words: this.c.words };
  }
  async setCandidates(k1: Int32Array, k2: Int32Array) {
    this.c.setCandidates(k1, k2);
  }
  async recount(text: string) {
    this.c.recount(text);
  }
  async recountResult(only?: Int32Array) {
    return this.c.recountResult(only);
  }
  async close() {}
}

/** A counter in a worker thread; replies come back in request order (ngramWorker.ts). */
class WorkerPort implements CounterPort {
  inflight = 0;
  private readonly w: Worker;
  private readonly replies: { resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  private dead: unknown;

  constructor(opts: CountOptions) {
    this.w = startModuleWorker(import.meta.url, 'ngramWorker', opts);
    this.w.on('message', (m) => this.replies.shift()?.resolve(m));
    this.w.on('error', (e) => this.fail(e));
    this.w.on('exit', (code) => this.fail(new Error(`n-gram worker exited with code ${code}`)));
  }
  count(text: string) {
    return this.ask({ type: 'count', text }).then(() => undefined);
  }
  result() {
    return this.ask({ type: 'result' }) as Promise<PassResult>;
  }
  setCandidates(k1: Int32Array, k2: Int32Array) {
    return this.ask({ type: 'candidates', k1, k2 }).then(() => undefined);
  }
  recount(text: string) {
    return this.ask({ type: 'recount', text }).then(() => undefined);
  }
  recountResult(only?: Int32Array) {
    return this.ask({ type: 'recountResult', only }) as Promise<Recount>;
  }
  async close() {
    this.dead ??= new Error('closed');
    await this.w.terminate();
  }
  private ask(msg: object): Promise<unknown> {
    if (this.dead !== undefined) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.replies.push({ resolve, reject });
      this.w.postMessage(msg);
    });
  }
  private fail(e: unknown) {
    if (this.dead !== undefined) return;
    this.dead = e;
    for (const r of this.replies.splice(0)) r.reject(e);
  }
}
