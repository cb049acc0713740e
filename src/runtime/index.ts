/**
 * slimtext/runtime: run a one-file slimtext bundle (`slimtext export --format bundle`) in any
 * JavaScript runtime (Node, browsers, workers, edge functions). ESM, no dependencies, no Node
 * built-ins: it imports only its own files and, on purpose, two dependency-free pieces of
 * slimtext's text layer (the BERT normaliser and fastText's hash), so its predictions are
 * slimtext's.
 *
 *   const model = await loadBundle(bytes);     // Uint8Array | ArrayBuffer
 *   model.predict('book a table for two')      // [{ label, score }, ...] best first
 *   model.predictBatch(texts)                  // one list per text
 *   model.logits(text)                         // raw logits, label order
 *
 * Multi-task bundles (a later manifest kind) will answer `predict` per task; the loader dispatches
 * on `manifest.kind`, which is the place to add them.
 */
import { BundleError, parseContainer, toBytes, type SlimManifest } from './format.js';
import { DanRuntime, type LogitsModel, type RuntimeOptions } from './dan.js';
import { TransformerRuntime } from './transformer.js';

export { BundleError, FORMAT_VERSION, type SlimManifest } from './format.js';
export type { RuntimeOptions } from './dan.js';

export interface Scored {
  label: string;
  score: number;
}

export interface PredictOptions {
  /** Labels to return, best first (default all). */
  topK?: number;
}

export class SlimModel {
  readonly labels: readonly string[];
  readonly kind: string;
  private readonly out: Float32Array;
  private readonly bits: Uint32Array;
  private readonly keys: Float64Array;

  constructor(readonly manifest: SlimManifest, private readonly net: LogitsModel) {
    this.labels = manifest.labels;
    this.kind = manifest.kind;
    this.out = new Float32Array(net.numLabels);
    this.bits = new Uint32Array(this.out.buffer);
    this.keys = new Float64Array(net.numLabels);
  }

  /** Logits of one text, in label order (a new array). */
  logits(text: string): Float32Array {
    this.net.logitsInto(checkText(text), this.out);
    return this.out.slice();
  }

  /** Labels with softmax scores, best first (equal scores: higher logit, then label order). */
  predict(text: string, opts: PredictOptions = {}): Scored[] {
    this.net.logitsInto(checkText(text), this.out);
    const z = this.out;
    const C = z.length;
    let max = -Infinity;
    for (let i = 0; i < C; i++) if (z[i]! > max) max = z[i]!;
    let sum = 0;
    for (let i = 0; i < C; i++) sum += Math.exp(z[i]! - max);
    const order = this.order();
    const k = opts.topK === undefined ? C : Math.max(0, Math.min(C, Math.trunc(opts.topK)));
    const out = new Array<Scored>(k);
    for (let r = 0; r < k; r++) {
      const i = order[r]!;
      out[r] = { label: this.labels[i]!, score: Math.exp(z[i]! - max) / sum };
    }
    return out;
  }

  /**
   * Label indices by logit, highest first, ties by index: one numeric sort (no comparator) of
   * keys packing the logit's order-preserving bits above the index, exact in a double.
   */
  private order(): Float64Array | Int32Array {
    const z = this.out, C = z.length;
    if (C > 65536) return Int32Array.from({ length: C }, (_, i) => i).sort((a, b) => z[b]! - z[a]! || a - b);
    const bits = this.bits, keys = this.keys;
    for (let i = 0; i < C; i++) {
      const u = bits[i]!;
      const up = u & 0x80000000 ? ~u >>> 0 : (u | 0x80000000) >>> 0;
      keys[i] = (0xffffffff - up) * 65536 + i;
    }
    keys.sort();
    for (let i = 0; i < C; i++) keys[i] = keys[i]! % 65536;
    return keys;
  }

  predictBatch(texts: readonly string[], opts: PredictOptions = {}): Scored[][] {
    if (!Array.isArray(texts)) throw new TypeError('predictBatch needs an array of strings');
    return texts.map((t) => this.predict(t, opts));
  }
}

/** Parses and checks a bundle; throws BundleError saying what is wrong with a bad one. */
export async function loadBundle(bytes: Uint8Array | ArrayBuffer, opts: RuntimeOptions = {}): Promise<SlimModel> {
  return loadBundleSync(bytes, opts);
}

export function loadBundleSync(bytes: Uint8Array | ArrayBuffer, opts: RuntimeOptions = {}): SlimModel {
  const c = parseContainer(toBytes(bytes));
  const m = c.manifest;
  if (!Array.isArray(m.labels) || m.labels.length === 0 || m.labels.some((l) => typeof l !== 'string')) throw new BundleError('bundle is corrupted: no labels');
  if (m.kind === 'dan' && m.dan) return new SlimModel(m, new DanRuntime(m.dan, c, m.labels.length, opts));
  if (m.kind === 'transformer' && m.transformer) return new SlimModel(m, new TransformerRuntime(m.transformer, c, m.labels.length));
  throw new BundleError(`bundle holds a ${JSON.stringify(m.kind)} model, which this runtime does not know: update slimtext`);
}

function checkText(text: string): string {
  if (typeof text !== 'string') throw new TypeError(`predict needs a string, got ${text === null ? 'null' : typeof text}`);
  return text;
}
