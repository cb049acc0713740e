/**
 * A word n-gram vocabulary: n-gram strings (words joined by one space, words as `bertWords`
 * makes them) with ids 0..size-1, most frequent first, and their corpus counts. Saved as one
 * compact binary file, written atomically:
 *
 *   'SLNGRAM1' | u32 LE header length | header JSON (space-padded to 4 bytes) |
 *   u32 LE count per n-gram | the n-grams, UTF-8, joined by '\n'
 *
 * Lookups for the featuriser go through word ids: each distinct word of the vocabulary gets an
 * id, and an n-gram is found by its tuple of word ids in an open-addressing table, so featurising
 * a sentence never builds an n-gram string.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';

export interface NgramVocabMeta {
  /** Longest n-gram. */
  maxN: number;
  /** The words were lowercased (and accents stripped), as uncased BERT does. */
  lowercase: boolean;
  /** Smallest count kept. */
  minCount: number;
  /** Sentences and words the vocabulary was counted over. */
  lines: number;
  words: number;
  /** Counting pruned rare n-grams, so the cut near the bottom of the list may be inexact. */
  approximate: boolean;
  /** The most any pass-1 count could be short (0 when nothing was pruned). */
  maxUndercount: number;
  /** The corpora it was built from. */
  sources: string[];
}

const MAGIC = 'SLNGRAM1';
const SLOT = 5;
const EXTENDS = 1;
const FORMAT_VERSION = 1;

export class NgramVocab {
  readonly ngrams: readonly string[];
  readonly counts: Uint32Array;
  readonly meta: NgramVocabMeta;
  private readonly wordIds = new Map<string, number>();
  /**
   * Tuple table, SLOT ints per slot: 4 word ids (-1 past the n-gram's length) then a value,
   * ((id + 1) << 1) | EXTENDS, 0 for an empty slot. EXTENDS says a longer n-gram of the vocabulary
   * starts with this one; every proper prefix of a vocabulary n-gram has a slot (id + 1 = 0 when it
   * is not itself in the vocabulary), so the featuriser stops looking as soon as a tuple neither
   * matches nor extends: exact, and about half the probes on real text. Keys and value share a
   * slot so a probe touches one cache line, not two: lookups are random accesses into tens of MB,
   * and the featuriser's time is mostly these misses.
   */
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(ngrams: readonly string[], counts: Uint32Array | readonly number[], meta: NgramVocabMeta) {
    if (counts.length !== ngrams.length) throw new RangeError(`${ngrams.length} n-grams but ${counts.length} counts`);
    this.ngrams = ngrams;
    this.counts = counts instanceof Uint32Array ? counts : Uint32Array.from(counts);
    this.meta = meta;
    const tuples = new Int32Array(ngrams.length * 4);
    const lengths = new Uint8Array(ngrams.length);
    ngrams.forEach((g, id) => {
      const ws = g.split(' ');
      if (ws.length > 4 || ws.length > meta.maxN || ws.some((w) => w === '')) throw new RangeError(`bad n-gram ${JSON.stringify(g)} (id ${id})`);
      lengths[id] = ws.length;
      for (let i = 0; i < 4; i++) {
        const w = ws[i];
        if (w === undefined) tuples[id * 4 + i] = -1;
        else {
          let wid = this.wordIds.get(w);
          if (wid === undefined) this.wordIds.set(w, (wid = this.wordIds.size));
          tuples[id * 4 + i] = wid;
        }
      }
    });
    this.slots = buildTable(tuples, lengths, ngrams);
    this.mask = this.slots.length / SLOT - 1;
  }

  get size(): number {
    return this.ngrams.length;
  }

  /** The id of an n-gram string ("new york"), or -1. */
  id(ngram: string): number {
    const ws = ngram.split(' ');
    if (ws.length > 4) return -1;
    const t = [-1, -1, -1, -1];
    for (let i = 0; i < ws.length; i++) {
      const wid = this.wordIds.get(ws[i]!);
      if (wid === undefined) return -1;
      t[i] = wid;
    }
    return this.lookup(t, 0, ws.length);
  }

  /** The id of a word within the vocabulary's n-grams (not an n-gram id), or -1. */
  wordId(word: string): number {
    return this.wordIds.get(word) ?? -1;
  }

  /** The n-gram id of word ids wids[start .. start + n), or -1. */
  lookup(wids: ArrayLike<number>, start: number, n: number): number {
    return (this.probe(wids, start, n) >>> 1) - 1;
  }

  /**
   * The raw slot value of word ids wids[start .. start + n): 0 when neither the n-gram nor any
   * longer one starting with it is in the vocabulary; else `(id + 1) << 1 | extends` (id + 1 = 0:
   * not itself in the vocabulary; extends = 1: some longer n-gram starts with it).
   */
  probe(wids: ArrayLike<number>, start: number, n: number): number {
    for (let i = 0; i < n; i++) if (wids[start + i]! < 0) return 0;
    return this.slots[slotOf(this.slots, this.mask, wids, start, n) * SLOT + 4]!;
  }

  /** Writes the vocabulary to `path` atomically (temp file + rename). */
  async save(path: string): Promise<void> {
    const header = Buffer.from(JSON.stringify({ format: 'slimtext-ngram-vocab', version: FORMAT_VERSION, size: this.size, ...this.meta }), 'utf8');
    const padded = Buffer.alloc(Math.ceil(header.length / 4) * 4, 0x20);
    header.copy(padded);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(padded.length);
    const counts = Buffer.alloc(this.counts.length * 4);
    for (let i = 0; i < this.counts.length; i++) counts.writeUInt32LE(this.counts[i]!, i * 4);
    await writeFileAtomic(path, [Buffer.from(MAGIC, 'ascii'), len, padded, counts, Buffer.from(this.ngrams.join('\n'), 'utf8')]);
  }

  static load(path: string): NgramVocab {
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (e) {
      throw new InputError(path, undefined, undefined, `cannot read n-gram vocabulary: ${(e as Error).message}`);
    }
    if (buf.length < 12 || buf.toString('ascii', 0, 8) !== MAGIC) throw new InputError(path, undefined, undefined, 'not a slimtext n-gram vocabulary (bad magic)');
    const hlen = buf.readUInt32LE(8);
    let header: NgramVocabMeta & { version: number; size: number };
    try {
      header = JSON.parse(buf.toString('utf8', 12, 12 + hlen)) as typeof header;
    } catch {
      throw new InputError(path, undefined, 'header', 'unreadable header');
    }
    if (header.version !== FORMAT_VERSION) throw new InputError(path, undefined, 'version', `unsupported version ${header.version}`);
    const off = 12 + hlen;
    const end = off + header.size * 4;
    if (end > buf.length) throw new InputError(path, undefined, undefined, 'file is truncated');
    const counts = new Uint32Array(header.size);
    for (let i = 0; i < header.size; i++) counts[i] = buf.readUInt32LE(off + i * 4);
    const ngrams = header.size === 0 ? [] : buf.toString('utf8', end).split('\n');
    if (ngrams.length !== header.size) throw new InputError(path, undefined, undefined, `header says ${header.size} n-grams, file has ${ngrams.length}`);
    const { version: _v, size: _s, format: _f, ...meta } = header as typeof header & { format: string };
    return new NgramVocab(ngrams, counts, meta);
  }

}

/** The slot table for `tuples` (4 word ids per n-gram), at a load of at most 0.6 for the n-grams. */
function buildTable(tuples: Int32Array, lengths: Uint8Array, ngrams: readonly string[]): Int32Array {
  let cap = 16;
  while (cap * 0.6 < lengths.length) cap *= 2;
  for (;;) {
    const table = fillTable(cap, tuples, lengths, ngrams);
    if (table) return table;
    cap *= 2; // prefix-only entries pushed the load too high: rare, only on hand-made vocabularies
  }
}

/** The table at `cap` slots, or null when its load would pass 0.85. */
function fillTable(cap: number, tuples: Int32Array, lengths: Uint8Array, ngrams: readonly string[]): Int32Array | null {
  const slots = new Int32Array(cap * SLOT);
  const mask = cap - 1;
  let used = 0;
  for (let id = 0; id < lengths.length; id++) {
    const o = slotOf(slots, mask, tuples, id * 4, lengths[id]!) * SLOT;
    if (slots[o + 4]! >>> 1 !== 0) throw new RangeError(`n-gram ${JSON.stringify(ngrams[id])} appears twice`);
    if (slots[o + 4] === 0) {
      slots.set(tuples.subarray(id * 4, id * 4 + 4), o);
      used++;
    }
    slots[o + 4] = ((id + 1) << 1) | (slots[o + 4]! & EXTENDS);
    // Mark (or add) every proper prefix as extended by a longer vocabulary n-gram.
    for (let n = lengths[id]! - 1; n >= 1; n--) {
      const p = slotOf(slots, mask, tuples, id * 4, n) * SLOT;
      if (slots[p + 4] === 0) {
        for (let k = 0; k < 4; k++) slots[p + k] = k < n ? tuples[id * 4 + k]! : -1;
        used++;
      }
      slots[p + 4] = slots[p + 4]! | EXTENDS;
    }
    if (used > cap * 0.85) return null;
  }
  return slots;
}

/** The slot of word-id tuple w[s .. s + n) (-1 past n): where it is, or the empty slot it would take. */
function slotOf(slots: Int32Array, mask: number, w: ArrayLike<number>, s: number, n: number): number {
  const w0 = w[s]!;
  const w1 = n > 1 ? w[s + 1]! : -1;
  const w2 = n > 2 ? w[s + 2]! : -1;
  const w3 = n > 3 ? w[s + 3]! : -1;
  let h = Math.imul(w0 ^ 0x5bd1e995, 0x9e3779b1);
  h = Math.imul(h ^ w1, 0x85ebca6b);
  h = Math.imul(h ^ w2, 0xc2b2ae35);
  h = Math.imul(h ^ w3, 0x27d4eb2f);
  h ^= h >>> 15;
  for (let i = h & mask; ; i = (i + 1) & mask) {
    const o = i * SLOT;
    if (slots[o + 4] === 0) return i;
    if (slots[o] === w0 && slots[o + 1] === w1 && slots[o + 2] === w2 && slots[o + 3] === w3) return i;
  }
}
