/**
 * A hash table from 64-bit fingerprints (two int32 halves) to a count, in one typed array:
 * 12 bytes a slot, no per-entry objects. Counting n-grams this way instead of in a
 * Map<string, number> takes about a tenth of the memory (no key strings, no entry objects) and
 * makes no garbage, which is what lets a vocabulary build over millions of lines stay inside a
 * fixed memory budget. Value 0 marks an empty slot (counts start at 1; indexes are stored +1).
 *
 * Hand-written: npm hash maps with typed storage key on one number, not a 64-bit pair, and the
 * pruning below (drop the rarest entries in place) is specific to lossy counting.
 */

const MAX_LOAD = 0.75;

export class FingerprintTable {
  /** Slot i is [k1, k2, value] at 3i: one cache line per probe instead of three. */
  slots: Int32Array;
  size = 0;
  private mask: number;
  private limit: number;

  /** `capacity`: initial slot count (rounded up to a power of two); the table doubles as needed. */
  constructor(capacity = 1 << 16) {
    const cap = nextPow2(Math.max(16, capacity));
    this.slots = new Int32Array(cap * 3);
    this.mask = cap - 1;
    this.limit = Math.floor(cap * MAX_LOAD);
  }

  /** A table over the `slots` of another (e.g. one handed over from a worker thread). */
  static fromSlots(slots: Int32Array, size: number): FingerprintTable {
    const t = new FingerprintTable(16);
    t.slots = slots;
    t.size = size;
    t.mask = slots.length / 3 - 1;
    t.limit = Math.floor((t.mask + 1) * MAX_LOAD);
    return t;
  }

  /** Adds every entry of another table's slots into this one; `onAdd` runs after each. */
  addAll(slots: Int32Array, onAdd?: () => void): void {
    for (let o = 0; o < slots.length; o += 3) {
      const v = slots[o + 2]!;
      if (v === 0) continue;
      this.add(slots[o]!, slots[o + 1]!, v);
      onAdd?.();
    }
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.slots.byteLength;
  }

  /** Adds `by` to the value of (a, b), inserting it with value `by` when absent. */
  add(a: number, b: number, by = 1): void {
    const o = this.find(a, b);
    if (this.slots[o + 2] === 0) this.insert(o, a, b, by);
    else this.slots[o + 2]! += by;
  }

  /** The value of (a, b), 0 when absent. */
  get(a: number, b: number): number {
    return this.slots[this.find(a, b) + 2]!;
  }

  /** Sets the value of (a, b) (value must be > 0). */
  set(a: number, b: number, v: number): void {
    const o = this.find(a, b);
    if (this.slots[o + 2] === 0) this.insert(o, a, b, v);
    else this.slots[o + 2] = v;
  }

  /** Offset of (a, b)'s slot, or of the empty slot where it would go (linear probing). */
  private find(a: number, b: number): number {
    const s = this.slots;
    const mask = this.mask;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      const o = i * 3;
      if (s[o + 2] === 0 || (s[o] === a && s[o + 1] === b)) return o;
    }
  }

  private insert(o: number, a: number, b: number, v: number): void {
    this.slots[o] = a;
    this.slots[o + 1] = b;
    this.slots[o + 2] = v;
    if (++this.size > this.limit) this.resize(this.capacity * 2);
  }

  /**
   * Drops every entry whose value is <= t, for the smallest t that leaves at most `keep`
   * entries; returns t (0 when nothing had to go).
   */
  prune(keep: number): number {
    if (this.size <= keep) return 0;
    const { val } = this.entries();
    const hist = histogram(val);
    // entries with value > t = size - (entries with value <= t)
    let t = 0;
    let le = 0;
    while (this.size - le > keep && t + 1 < hist.length) le += hist[++t]!;
    let cap = this.capacity;
    while (cap > 16 && this.size - le < cap * MAX_LOAD * 0.25) cap /= 2;
    this.rehash(cap, t);
    return t;
  }

  /** The entries as dense arrays (copies), in slot order. */
  entries(): { k1: Int32Array; k2: Int32Array; val: Uint32Array } {
    const k1 = new Int32Array(this.size);
    const k2 = new Int32Array(this.size);
    const val = new Uint32Array(this.size);
    const s = this.slots;
    let n = 0;
    for (let o = 0; o < s.length; o += 3) {
      if (s[o + 2] === 0) continue;
      k1[n] = s[o]!;
      k2[n] = s[o + 1]!;
      val[n++] = s[o + 2]!;
    }
    return { k1, k2, val };
  }

  private resize(cap: number): void {
    this.rehash(cap, 0);
  }

  /** Moves the entries with value > t into a fresh table of `cap` slots. */
  private rehash(cap: number, t: number): void {
    const old = this.slots;
    this.slots = new Int32Array(cap * 3);
    this.mask = cap - 1;
    this.limit = Math.floor(cap * MAX_LOAD);
    this.size = 0;
    for (let o = 0; o < old.length; o += 3) {
      const v = old[o + 2]!;
      if (v !== 0 && (v >>> 0) > t) this.set(old[o]!, old[o + 1]!, v);
    }
  }
}

/**
 * Indexes of the `m` entries with the largest values (all of them >= `min`), ties broken by the
 * smaller fingerprint (k1, then k2, unsigned) so the choice is the same on every run. Unordered.
 */
export function topEntries(k1: Int32Array, k2: Int32Array, val: Uint32Array, m: number, min = 1): Int32Array {
  const hist = histogram(val);
  // Find c: entries with value > c number fewer than m, with value >= c at least m (or c = min).
  let above = 0;
  let c = hist.length - 1;
  for (; c > min; c--) {
    if (above + hist[c]! >= m) break;
    above += hist[c]!;
  }
  const out: number[] = [];
  const ties: number[] = [];
  for (let i = 0; i < val.length; i++) {
    const v = val[i]!;
    if (v > c) out.push(i);
    else if (v === c && v >= min) ties.push(i);
  }
  let need = Math.min(m - out.length, ties.length);
  if (need >= ties.length) {
    // A loop, not push(...ties): millions of ties would overflow the call stack.
    for (const i of ties) out.push(i);
  }
  else if (need > 0) {
    const keys = new Uint32Array(ties.length);
    ties.forEach((i, j) => (keys[j] = k1[i]! >>> 0));
    const sorted = keys.slice().sort();
    const cut = sorted[need - 1]!;
    const atCut: number[] = [];
    for (let j = 0; j < ties.length; j++) {
      if (keys[j]! < cut) {
        out.push(ties[j]!);
        need--;
      } else if (keys[j] === cut) atCut.push(ties[j]!);
    }
    atCut.sort((x, y) => (k2[x]! >>> 0) - (k2[y]! >>> 0));
    for (let j = 0; j < need; j++) out.push(atCut[j]!);
  }
  return Int32Array.from(out);
}

/** Count of entries per value (index = value), for values up to 2^24; larger values share the top bin. */
function histogram(val: Uint32Array): Uint32Array {
  let max = 0;
  for (let i = 0; i < val.length; i++) if (val[i]! > max) max = val[i]!;
  const bins = Math.min(max, 1 << 24) + 1;
  const hist = new Uint32Array(bins);
  for (let i = 0; i < val.length; i++) {
    const v = val[i]!;
    if (v !== 0) hist[v < bins ? v : bins - 1]!++;
  }
  return hist;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
