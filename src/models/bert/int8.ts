/**
 * int8 encoder linear layers kept in a model folder (`slimtext compress --method int8-linear`):
 * the scheme of `--quantize int8` (symmetric int8 per output channel, scale max|w|/127, rounded
 * by the backend's q8Quantize kernel) applied once and saved, so that loading packs the codes as
 * they are, with no re-quantisation, and runs the int8 inference path on its own.
 *
 *   quantizeEncoder(bert)                  codes + scales on every encoder Linear (Linear.int8)
 *   int8Tensors(model) / loadInt8(model)   `<name>.weight_int8` (I8, [out, in]) + `<name>.weight_scale` (F32, [out])
 *
 * A loaded int8 layer also holds its dequantised weight (codes x scale) in the fp32 parameter, so
 * everything that reads weights (the taped forward, fine-tuning, export, merge) sees the model
 * exactly as saved; putting the model into training mode drops the codes (Linear.train).
 */
import { BinaryOp } from '../../engine/backend.js';
import { getBackend, inferKernels, Linear, Module, type Backend, type Int8Weight } from '../../engine/index.js';
import { SlimtextError } from '../../errors.js';
import type { TensorToWrite, SafeTensor } from '../../io/safetensors.js';
import type { BertModel } from './model.js';

export const INT8_SUFFIX = '.weight_int8';
export const SCALE_SUFFIX = '.weight_scale';
/** What the manifest says about a model whose encoder linear layers are int8 (architecture.int8_linear). */
export const INT8_LINEAR_SCHEME = 'int8 weights per output channel (scale max|w|/127, round half to even), activations quantised per row at run time, int32 accumulation';

/** The Linear layers the inference path runs (Q, K, V, attention output, FFN in and out of every layer), by name under the encoder. */
export function encoderLinears(bert: BertModel): [string, Linear][] {
  return bert.encoder.layer.flatMap((l, i) => {
    const p = `encoder.layer.${i}.`;
    return [
      [`${p}attention.self.query`, l.attention.self.query], [`${p}attention.self.key`, l.attention.self.key],
      [`${p}attention.self.value`, l.attention.self.value], [`${p}attention.output.dense`, l.attention.output.dense],
      [`${p}intermediate.dense`, l.intermediate.dense], [`${p}output.dense`, l.output.dense],
    ] as [string, Linear][];
  });
}

/** True when any encoder linear layer holds saved int8 codes. */
export function hasInt8(bert: BertModel): boolean {
  return encoderLinears(bert).some(([, l]) => l.int8 !== undefined);
}

/** Per-channel int8 codes of a (N, K) weight, with the backend's rounding (the same as --quantize int8). */
export function quantizeWeight(N: number, K: number, weight: Float32Array, be: Backend = getBackend()): Int8Weight {
  const k = inferKernels(be);
  if (!k.q8Quantize) throw new SlimtextError(`int8 quantisation needs a backend with int8 kernels; the ${be.name} backend has none`);
  const codes = new Int8Array(N * K);
  const scales = new Float32Array(N);
  k.q8Quantize(N, K, weight, codes, scales);
  return { codes, scales };
}

/** Quantises every encoder linear layer in place (codes kept, weights replaced by their dequantised values). */
export function quantizeEncoder(bert: BertModel, be: Backend = getBackend()): number {
  const layers = encoderLinears(bert);
  if (layers.some(([, l]) => l.int8)) throw new SlimtextError('the encoder is already int8');
  for (const [, l] of layers) setInt8(l, quantizeWeight(l.outFeatures, l.inFeatures, l.weight.data, be), be);
  return layers.length;
}

/** Gives a Linear its int8 form and sets its weight to the dequantised values codes[n, k] * scales[n]. */
export function setInt8(l: Linear, q: Int8Weight, be: Backend = getBackend()): void {
  const N = l.outFeatures, K = l.inFeatures;
  const w = l.weight.data;
  w.set(q.codes); // int8 -> float32, exact
  be.binary(BinaryOp.Mul, Int32Array.of(N, K), w, Int32Array.of(K, 1), q.scales, Int32Array.of(1, 0), w, false);
  l.int8 = q;
}

/** Every Linear under a module with its dotted name (as namedParameters names its weight, less `.weight`). */
function namedLinears(m: Module, prefix = ''): [string, Linear][] {
  const out: [string, Linear][] = [];
  const walk = (x: Module, pre: string) => {
    if (x instanceof Linear) out.push([pre.slice(0, -1), x]);
    for (const [key, c] of x.children()) walk(c, `${pre}${key}.`);
  };
  walk(m, prefix ? `${prefix}.` : '');
  return out;
}

/**
 * For saving: the tensors that replace `<name>.weight` of every int8 Linear under `model`, and the
 * weight names they replace. Empty when the model has no int8 layer.
 */
export function int8Tensors(model: Module): { tensors: Map<string, TensorToWrite>; replaces: Set<string> } {
  const tensors = new Map<string, TensorToWrite>();
  const replaces = new Set<string>();
  for (const [name, l] of namedLinears(model)) {
    if (!l.int8) continue;
    replaces.add(`${name}.weight`);
    tensors.set(name + INT8_SUFFIX, { shape: [l.outFeatures, l.inFeatures], data: l.int8.codes, dtype: 'I8' });
    tensors.set(name + SCALE_SUFFIX, { shape: [l.outFeatures], data: l.int8.scales });
  }
  return { tensors, replaces };
}

/**
 * For loading: sets every Linear under `model` whose `<name>.weight_int8` is among `tensors` from its
 * codes and scales. Returns the tensor names used and the weight names they stood for; `bad` reports
 * a malformed pair (field = the tensor name).
 */
export function loadInt8(
  model: Module, tensors: ReadonlyMap<string, SafeTensor>, bad: (field: string, why: string) => never, be: Backend = getBackend(),
): { used: Set<string>; weights: Set<string> } {
  const used = new Set<string>();
  const weights = new Set<string>();
  for (const [name, l] of namedLinears(model)) {
    const q = tensors.get(name + INT8_SUFFIX);
    if (!q) continue;
    const s = tensors.get(name + SCALE_SUFFIX);
    const N = l.outFeatures, K = l.inFeatures;
    if (q.dtype !== 'I8' || q.shape.join(',') !== `${N},${K}`) bad(name + INT8_SUFFIX, `expected I8 [${N}, ${K}], got ${q.dtype} [${q.shape.join(', ')}]`);
    if (!s || s.dtype !== 'F32' || s.shape.join(',') !== `${N}`) bad(name + SCALE_SUFFIX, `expected F32 [${N}] beside ${name + INT8_SUFFIX}${s ? `, got ${s.dtype} [${s.shape.join(', ')}]` : ', missing'}`);
    setInt8(l, { codes: Int8Array.from(q.data as Int32Array), scales: s!.data as Float32Array }, be);
    used.add(name + INT8_SUFFIX).add(name + SCALE_SUFFIX);
    weights.add(`${name}.weight`);
  }
  return { used, weights };
}
