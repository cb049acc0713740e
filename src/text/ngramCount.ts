/**
 * Counting word 1..N-grams of a text stream in bounded memory, in two passes.
 *
 * Pass 1 (`count`): every n-gram is reduced to a 64-bit fingerprint, built word by word from
 * per-word hashes, so no n-gram string is ever made; fingerprints are counted in a
 * FingerprintTable. When the table outgrows `maxEntries`, the rarest entries are dropped (lossy
 * counting: an n-gram dropped at count <= t and seen again restarts from 0, so any count is short
 * by at most the sum of the thresholds used, reported as `maxUndercount`).
 * Pass 2 (`recount`): given the chosen candidate fingerprints, count them exactly and capture the
 * n-gram string of each the first time it is met.
 *
 * One NgramCounter runs in each worker thread (ngramWorker.ts) or, for small jobs, in the caller.
 */
import { bertWords } from './bertNormalizer.js';
import { FingerprintTable } from './fingerprintTable.js';

export interface CountOptions {
  /** Longest n-gram, 1..4. */
  maxN: number;
  lowercase: boolean;
  /** Most distinct fingerprints held before pruning (memory: about 16-32 bytes each). */
  maxEntries: number;
  /** Expected distinct fingerprints: the table starts this big instead of doubling its way there. */
  initialEntries?: number;
}

/** Pass-1 result: the table's slots (FingerprintTable.fromSlots) and how far counts can be short. */
export interface CountTable {
  slots: Int32Array;
  size: number;
  maxUndercount: number;
  prunes: number;
}

/** Pass-2 result: exact count per candidate; the strings of candidates met (idx[i] -> strings[i]). */
export interface Recount {
  exact: Uint32Array;
  idx: Int32Array;
  strings: string[];
}

export class NgramCounter {
  lines = 0;
  words = 0;
  maxUndercount = 0;
  prunes = 0;
  private table: FingerprintTable;
  private wa = new Int32Array(64);
  private wb = new Int32Array(64);
  private fa = new Int32Array(64);
  private fb = new Int32Array(64);
  private pos = new Int32Array(64);
  private candidates: FingerprintTable | undefined;
  private exact: Uint32Array | undefined;
  private seen = new Uint8Array(0);
  private found: string[] = [];
  /** The words of the line last fingerprinted (pass 2 makes n-gram strings from them). */
  private lineWords: string[] = [];

  constructor(readonly opts: CountOptions) {
    if (!(opts.maxN >= 1 && opts.maxN <= 4)) throw new RangeError(`maxN must be 1..4, got ${opts.maxN}`);
    this.table = new FingerprintTable(Math.min(opts.initialEntries ?? 0, opts.maxEntries) / 0.75);
  }

  /** Pass 1 over sentences joined by '\n'. */
  count(text: string): void {
    const keep = Math.floor(this.opts.maxEntries / 2);
    for (const line of text.split('\n')) {
      const n = this.fingerprints(line);
      for (let i = 0; i < n; i++) this.table.add(this.fa[i]!, this.fb[i]!);
      if (this.table.size > this.opts.maxEntries) {
        this.maxUndercount += this.table.prune(keep);
        this.prunes++;
      }
    }
  }

  /** Pass-1 counts; ends pass 1 (the table is handed over, not copied). */
  result(): CountTable {
    const r = { slots: this.table.slots, size: this.table.size, maxUndercount: this.maxUndercount, prunes: this.prunes };
    this.table = new FingerprintTable(16);
    return r;
  }

  /** Switches to pass 2: the fingerprints to count exactly. */
  setCandidates(k1: Int32Array, k2: Int32Array): void {
    const t = new FingerprintTable(Math.ceil(k1.length / 0.7));
    for (let i = 0; i < k1.length; i++) t.set(k1[i]!, k2[i]!, i + 1);
    this.candidates = t;
    this.exact = new Uint32Array(k1.length);
    this.seen = new Uint8Array(k1.length);
    this.found = new Array<string>(k1.length).fill('');
  }

  /** Pass 2 over sentences joined by '\n'. */
  recount(text: string): void {
    const cand = this.candidates;
    const exact = this.exact;
    if (!cand || !exact) throw new Error('recount before setCandidates');
    for (const line of text.split('\n')) {
      const n = this.fingerprints(line);
      for (let k = 0; k < n; k++) {
        const v = cand.get(this.fa[k]!, this.fb[k]!);
        if (v === 0) continue;
        exact[v - 1]!++;
        if (this.seen[v - 1] === 0) {
          const p = this.pos[k]!; // start * 8 + length
          this.seen[v - 1] = 1;
          this.found[v - 1] = this.lineWords.slice(p >> 3, (p >> 3) + (p & 7)).join(' ');
        }
      }
    }
  }

  /** Pass-2 result: counts of every candidate; strings of those met (of `only`, when given). */
  recountResult(only?: Int32Array): Recount {
    const idx: number[] = [];
    const strings: string[] = [];
    const n = only ? only.length : this.seen.length;
    for (let j = 0; j < n; j++) {
      const i = only ? only[j]! : j;
      if (this.seen[i] === 0) continue;
      idx.push(i);
      strings.push(this.found[i]!);
    }
    return { exact: this.exact ?? new Uint32Array(0), idx: Int32Array.from(idx), strings };
  }

  /**
   * Fingerprints of every n-gram of one line into fa/fb (and start * 8 + length into pos), start
   * by start, shortest first. Returns how many.
   */
  private fingerprints(line: string): number {
    const words = bertWords(line, { lowercase: this.opts.lowercase });
    this.lineWords = words;
    const W = words.length;
    this.lines++;
    this.words += W;
    const maxN = this.opts.maxN;
    const slots = W * maxN;
    if (slots > this.fa.length) {
      this.fa = new Int32Array(slots * 2);
      this.fb = new Int32Array(slots * 2);
      this.pos = new Int32Array(slots * 2);
    }
    if (W > this.wa.length) {
      this.wa = new Int32Array(W * 2);
      this.wb = new Int32Array(W * 2);
    }
    const wa = this.wa;
    const wb = this.wb;
    // Hashing each word afresh is cheaper than a Map cache: a lookup hashes the string anyway.
    for (let j = 0; j < W; j++) {
      const w = words[j]!;
      let a = 0x811c9dc5 | 0;
      let b = 0x9747b28c | 0;
      for (let i = 0; i < w.length; i++) {
        const c = w.charCodeAt(i);
        a = Math.imul(a ^ c, 16777619);
        b = Math.imul(b ^ c, 0x5bd1e995);
        b ^= b >>> 15;
      }
      wa[j] = fmix32(a);
      wb[j] = fmix32(b ^ w.length);
    }
    const fa = this.fa;
    const fb = this.fb;
    const pos = this.pos;
    let k = 0;
    for (let i = 0; i < W; i++) {
      let a = SEED_A;
      let b = SEED_B;
      const last = Math.min(maxN, W - i);
      for (let n = 1; n <= last; n++, k++) {
        const j = i + n - 1;
        a = Math.imul(((a << 5) | (a >>> 27)) ^ wa[j]!, 0x9e3779b1);
        b = Math.imul((((b << 11) | (b >>> 21)) + wb[j]!) | 0, 0x85ebca77);
        fa[k] = fmix32(a ^ n);
        fb[k] = fmix32(b ^ Math.imul(n, 0x27d4eb2f));
        pos[k] = (i << 3) | n;
      }
    }
    return k;
  }
}

// ------------------------------------------------------------------------------------------------

const SEED_A = 0x3c6ef372;
const SEED_B = 0x1b873593;

/** MurmurHash3's finaliser: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
