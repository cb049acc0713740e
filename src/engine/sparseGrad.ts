/**
 * A row-sparse gradient for an embedding table: the unique row ids a batch touched and one
 * gradient row for each, so a table of millions of rows costs only the rows used. Duplicate ids are
 * coalesced into one slot; gradients from later lookups (or later backward calls, for gradient
 * accumulation) add into the same slots.
 *
 * The id -> slot map is a hand-written open-addressing hash table over typed arrays rather than a
 * JS Map: coalescing runs once per id occurrence of every batch, and a Map costs ~70 ns a lookup
 * here against ~10 ns for the flat table.
 */
import { getBackend } from './backends.js';
import { OpError } from '../errors.js';

export class SparseGrad {
  /** Columns of the table (length of each gradient row). */
  readonly dim: number;
  /** Rows of the table (ids must lie in [0, tableRows)). */
  readonly tableRows: number;
  private idBuf: Int32Array;
  private rowBuf: Float32Array;
  private n = 0;
  /**
   * Hash table: keys[h] = id + 1 (0 marks an empty cell), vals[h] = slot; capacity 2^(32 - shift).
   * Fibonacci hashing takes the product's high bits, so ids sharing low bits do not cluster.
   */
  private keys = new Int32Array(64);
  private vals = new Int32Array(64);
  private shift = 32 - 6;

  constructor(tableRows: number, dim: number) {
    this.tableRows = tableRows;
    this.dim = dim;
    this.idBuf = new Int32Array(16);
    this.rowBuf = new Float32Array(16 * dim);
  }

  /** Number of distinct rows touched. */
  get count(): number {
    return this.n;
  }

  /** The distinct row ids, in order of first touch (a view, valid until the next change). */
  get ids(): Int32Array {
    return this.idBuf.subarray(0, this.n);
  }

  /** The gradient rows, [count, dim], row r belonging to ids[r] (a view). */
  get rows(): Float32Array {
    return this.rowBuf.subarray(0, this.n * this.dim);
  }

  /**
   * Maps each id occurrence to its slot in `rows`, adding (zeroed) slots for ids not seen yet.
   * Throws an OpError naming `op` if an id is outside the table.
   */
  slotsFor(op: string, ids: Int32Array): Int32Array {
    // Checked before anything changes, so a bad id leaves the gradient as it was.
    for (let j = 0; j < ids.length; j++) {
      const id = ids[j]!;
      if (!(id >= 0 && id < this.tableRows)) {
        throw new OpError(op, `id ${id} at position ${j} is outside the table of ${this.tableRows} rows`);
      }
    }
    const slots = new Int32Array(ids.length);
    const start = this.n;
    for (let j = 0; j < ids.length; j++) {
      const id = ids[j]!;
      const mask = this.keys.length - 1;
      let h = Math.imul(id, 0x9e3779b1) >>> this.shift;
      while (this.keys[h] !== 0 && this.keys[h] !== id + 1) h = (h + 1) & mask;
      if (this.keys[h] === 0) {
        const s = this.n++;
        if (s >= this.idBuf.length) this.grow();
        this.idBuf[s] = id;
        this.keys[h] = id + 1;
        this.vals[h] = s;
        slots[j] = s;
        if (2 * this.n > this.keys.length) this.rehash();
      } else {
        slots[j] = this.vals[h]!;
      }
    }
    if (this.n > start) getBackend().fill((this.n - start) * this.dim, 0, this.rowBuf.subarray(start * this.dim));
    return slots;
  }

  /** rows[slot(ids[i])] += alpha * src[i, :] for each of the ids. */
  add(op: string, ids: Int32Array, src: Float32Array, alpha = 1): void {
    const slots = this.slotsFor(op, ids);
    getBackend().indexAdd(ids.length, this.dim, src, slots, alpha, this.rowBuf);
  }

  /** dense[ids[r], :] += rows[r, :] (dense is the full [tableRows, dim] buffer). */
  addInto(dense: Float32Array, alpha = 1): void {
    if (this.n > 0) getBackend().indexAdd(this.n, this.dim, this.rows, this.ids, alpha, dense);
  }

  /** Multiplies every stored row by s (gradient clipping). */
  scale(s: number): void {
    const n = this.n * this.dim;
    if (n > 0) getBackend().axpby(n, s, this.rowBuf, 0, this.rowBuf);
  }

  sumSquares(): number {
    return this.n > 0 ? getBackend().sumSquares(this.n * this.dim, this.rowBuf) : 0;
  }

  clear(): void {
    this.n = 0;
    this.keys.fill(0);
  }

  /** Doubles the hash table (kept at most half full) and re-inserts the ids seen so far. */
  private rehash(): void {
    const cap = this.keys.length * 2;
    this.keys = new Int32Array(cap);
    this.vals = new Int32Array(cap);
    this.shift--;
    const mask = cap - 1;
    for (let s = 0; s < this.n; s++) {
      const id = this.idBuf[s]!;
      let h = Math.imul(id, 0x9e3779b1) >>> this.shift;
      while (this.keys[h] !== 0) h = (h + 1) & mask;
      this.keys[h] = id + 1;
      this.vals[h] = s;
    }
  }

  private grow(): void {
    const cap = this.idBuf.length * 2;
    const ids = new Int32Array(cap);
    ids.set(this.idBuf);
    this.idBuf = ids;
    const rows = new Float32Array(cap * this.dim);
    rows.set(this.rowBuf);
    this.rowBuf = rows;
  }
}
