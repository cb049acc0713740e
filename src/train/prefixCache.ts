/**
 * Frozen-prefix features, computed once and reused: when the embeddings and the bottom K layers are
 * frozen and run without dropout, their output for an example never changes, so every epoch after
 * the first can start at layer K. `PrefixRunner.run` is the encoder forward that does this:
 *
 *   rows of a tokenised set -> prefix features (B, T, H) from the cache where present, the rest
 *   computed (under noGrad, only for the missing rows) and stored; then layers [K, L) with the tape.
 *
 * Features are stored per example, unpadded ((len, H) floats), under a numeric key, up to a byte
 * budget; past it, examples are simply recomputed each time. Padded positions of an assembled batch
 * are zeros rather than what the encoder would compute there: they are masked out of attention and
 * pooling, so no real position sees the difference.
 */
import { Tensor, noGrad } from '../engine/index.js';
import type { BertModel } from '../models/bert/model.js';
import type { EncodeRows } from '../models/inference.js';
import { padRows, type PaddedBatch, type TokenizedSet } from '../models/textBatch.js';
import type { FreezePlan } from './freeze.js';

export interface CacheStats {
  /** Examples whose features are stored. */
  entries: number;
  bytes: number;
  budgetBytes: number;
  /** Rows served from the cache. */
  hits: number;
  /** Rows whose prefix was computed. */
  computed: number;
  /** Rows computed but not stored because the budget was full. */
  notStored: number;
  /** Seconds spent computing prefix features. */
  prefixSeconds: number;
  /** Estimated seconds the hits saved (hits x the mean cost of computing one row). */
  savedSeconds: number;
}

export class PrefixCache {
  private readonly store = new Map<number, Float32Array>();
  private bytes = 0;
  hits = 0;
  computed = 0;
  notStored = 0;
  prefixSeconds = 0;

  constructor(readonly budgetBytes: number) {}

  get(key: number): Float32Array | undefined {
    return this.store.get(key);
  }

  /** Stores a copy of `rows` unless the budget is spent; returns whether it was stored. */
  put(key: number, rows: Float32Array): boolean {
    if (this.store.has(key)) return true;
    if (this.bytes + rows.byteLength > this.budgetBytes) {
      this.notStored++;
      return false;
    }
    this.store.set(key, rows.slice());
    this.bytes += rows.byteLength;
    return true;
  }

  clear(): void {
    this.store.clear();
    this.bytes = 0;
  }

  stats(): CacheStats {
    const perRow = this.computed > 0 ? this.prefixSeconds / this.computed : 0;
    return {
      entries: this.store.size, bytes: this.bytes, budgetBytes: this.budgetBytes, hits: this.hits, computed: this.computed,
      notStored: this.notStored, prefixSeconds: round(this.prefixSeconds), savedSeconds: round(this.hits * perRow),
    };
  }
}

/**
 * Runs one encoder over rows of tokenised sets, starting from the frozen prefix when there is one.
 * Each set is registered with a key base so that the same example in different roles (a message,
 * a reply, a dev row) has its own cache entry.
 */
export class PrefixRunner {
  private readonly bases = new Map<TokenizedSet, number>();

  constructor(
    readonly encoder: BertModel,
    readonly plan: FreezePlan,
    readonly padId: number,
    /** Undefined when there is no frozen prefix to cache, or caching is off. */
    readonly cache: PrefixCache | undefined,
  ) {}

  /** Registers a set whose rows may be cached, under its own key range. */
  register(set: TokenizedSet): void {
    if (this.bases.has(set)) return;
    let base = 0;
    for (const [s, b] of this.bases) base = Math.max(base, b + s.lengths.length);
    this.bases.set(set, base);
  }

  /** The EncodeRows shape, for the shared inference functions. */
  readonly encodeRows: EncodeRows = (encoder, set, rows) => {
    if (encoder !== this.encoder) throw new Error('PrefixRunner: asked to run a different encoder');
    return this.run(set, rows);
  };

  run(set: TokenizedSet, rows: Int32Array): { last: Tensor; batch: PaddedBatch } {
    const enc = this.encoder;
    const batch = padRows(set, rows, this.padId);
    const mask = enc.maskFor(batch);
    const K = this.plan.prefixLayers;
    if (K < 0) return { last: enc.encode(enc.embed(batch), mask), batch };
    const hidden = this.prefix(set, rows, batch);
    return { last: enc.encode(hidden, mask, K), batch };
  }

  /**
   * Computes and stores the prefix features of rows as `run` would, without running the rest of
   * the encoder: how a resumed run refills the cache exactly as the interrupted run had filled it.
   */
  warm(set: TokenizedSet, rows: Int32Array): void {
    if (this.cache && this.plan.prefixLayers >= 0) this.prefix(set, rows, padRows(set, rows, this.padId));
  }

  /** Prefix features (B, T, H) of a batch, as a tensor that needs no gradient. */
  private prefix(set: TokenizedSet, rows: Int32Array, batch: PaddedBatch): Tensor {
    const enc = this.encoder;
    const K = this.plan.prefixLayers;
    const cache = this.cache;
    const base = this.bases.get(set);
    if (!cache || base === undefined) return this.compute(batch, K);
    const [B, T] = batch.ids.shape as [number, number];
    const H = enc.config.hiddenSize;
    const found: (Float32Array | undefined)[] = Array.from(rows, (r) => cache.get(base + r));
    const missing = rows.filter((_, k) => !found[k]);
    if (missing.length > 0) {
      const sub = padRows(set, missing, this.padId);
      const h = this.compute(sub, K).data;
      const Ts = sub.ids.shape[1]!;
      let j = 0;
      rows.forEach((r, k) => {
        if (found[k]) return;
        const feats = h.subarray(j * Ts * H, (j * Ts + sub.lengths[j]!) * H);
        cache.put(base + r, feats);
        found[k] = cache.get(base + r) ?? feats.slice();
        j++;
      });
    }
    cache.hits += rows.length - missing.length;
    const out = new Float32Array(B * T * H);
    found.forEach((f, k) => out.set(f!, k * T * H));
    return new Tensor(out, [B, T, H]);
  }

  private compute(batch: PaddedBatch, K: number): Tensor {
    const enc = this.encoder;
    const t0 = performance.now();
    // The prefix is dropout-free whatever mode the caller left the modules in (a resumed run
    // refills the cache before any training step has set the modes).
    const prefix = [enc.embeddings, ...enc.encoder.layer.slice(0, K)];
    const modes = prefix.map((m) => m.training);
    prefix.forEach((m) => m.eval());
    let h: Tensor;
    try {
      h = noGrad(() => enc.encode(enc.embed(batch), enc.maskFor(batch), 0, K));
    } finally {
      prefix.forEach((m, i) => m.train(modes[i]));
    }
    if (this.cache) {
      this.cache.prefixSeconds += (performance.now() - t0) / 1000;
      this.cache.computed += batch.lengths.length;
    }
    return h;
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
