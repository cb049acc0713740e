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
const FORMAT_VERSION = 1;

export class NgramVocab {
  readonly ngrams: readonly string[];
  readonly counts: Uint32Array;
  readonly meta: NgramVocabMeta;
  private readonly wordIds = new Map<string, number>();
  /** Tuple table: 4 word ids per slot (-1 past the n-gram's length), value id + 1 (0 = empty). */
  private readonly keys: Int32Array;
  private readonly vals: Int32Array;
  private readonly mask: number;

  constructor(ngrams: readonly string[], counts: Uint32Array | readonly number[], meta: NgramVocabMeta) {
    if (counts.length !== ngrams.length) throw new RangeError(`${ngrams.length} n-grams but ${counts.length} counts`);
    this.ngrams = ngrams;
    this.counts = counts instanceof Uint32Array ? counts : Uint32Array.from(counts);
    this.meta = meta;
    let cap = 16;
    while (cap * 0.6 < ngrams.length) cap *= 2;
    this.keys = new Int32Array(cap * 4).fill(-1);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    const t = [-1, -1, -1, -1];
    ngrams.forEach((g, id) => {
      const ws = g.split(' ');
      if (ws.length > 4 || ws.length > meta.maxN || ws.some((w) => w === '')) throw new RangeError(`bad n-gram ${JSON.stringify(g)} (id ${id})`);
      for (let i = 0; i < 4; i++) {
        const w = ws[i];
        if (w === undefined) t[i] = -1;
        else {
          let wid = this.wordIds.get(w);
          if (wid === undefined) this.wordIds.set(w, (wid = this.wordIds.size));
          t[i] = wid;
        }
      }
      const slot = this.slotOf(t, 0, ws.length);
      if (this.vals[slot] !== 0) throw new RangeError(`n-gram ${JSON.stringify(g)} appears twice`);
      this.keys.set(t, slot * 4);
      this.vals[slot] = id + 1;
    });
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
    for (let i = 0; i < n; i++) if (wids[start + i]! < 0) return -1;
    return this.vals[this.slotOf(wids, start, n)]! - 1;
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

  private slotOf(w: ArrayLike<number>, s: number, n: number): number {
    const w0 = w[s]!;
    const w1 = n > 1 ? w[s + 1]! : -1;
    const w2 = n > 2 ? w[s + 2]! : -1;
    const w3 = n > 3 ? w[s + 3]! : -1;
    let h = Math.imul(w0 ^ 0x5bd1e995, 0x9e3779b1);
    h = Math.imul(h ^ w1, 0x85ebca6b);
    h = Math.imul(h ^ w2, 0xc2b2ae35);
    h = Math.imul(h ^ w3, 0x27d4eb2f);
    h ^= h >>> 15;
    const keys = this.keys;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      if (this.vals[i] === 0) return i;
      const o = i * 4;
      if (keys[o] === w0 && keys[o + 1] === w1 && keys[o + 2] === w2 && keys[o + 3] === w3) return i;
    }
  }
}
