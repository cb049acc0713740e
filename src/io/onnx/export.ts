/**
 * ONNX export of a BERT sequence classifier (or its encoder alone), written by slimtext itself
 * (proto.ts): opset 17 (LayerNormalization is a single op there), inputs named as Hugging Face
 * exports name them (`input_ids`, `attention_mask`, `token_type_ids`, int64 (batch, sequence)),
 * dynamic batch and sequence axes, output `logits` (batch, labels) or `last_hidden_state`
 * (batch, sequence, hidden). The graph is the one models/classifier.ts computes: embeddings +
 * LayerNorm, post-LN layers with the additive -10000 padding mask, erf GELU, then [CLS] through
 * the pooler or the masked mean, then the linear head. The tokenizer files (and a Hugging Face
 * style config.json with the labels) are written beside the model, so any ONNX Runtime host can
 * tokenise as slimtext does.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../../errors.js';
import type { AnyTaskModel } from '../../models/anyModel.js';
import { writeFileAtomic } from '../atomic.js';
import { bundleFiles } from '../bundle.js';
import { DataType, Msg, node, tensor, valueInfo, type Attr } from './proto.js';
import { checkOutputPath } from '../outputPath.js';

export const ONNX_OPSET = 17;

export interface OnnxExportOptions {
  /** The encoder alone: output last_hidden_state instead of logits. */
  encoderOnly?: boolean;
  overwrite?: boolean;
  /** The model folder (its tokenizer files are copied beside the .onnx). */
  source?: string;
}

export interface OnnxExportReport {
  out: string;
  bytes: number;
  opset: number;
  outputs: string[];
  files: string[];
}

export async function writeOnnx(out: string, tm: AnyTaskModel, opts: OnnxExportOptions = {}): Promise<OnnxExportReport> {
  checkOutputPath(out, { kind: 'file', overwrite: opts.overwrite });
  const bytes = encodeOnnx(tm, opts);
  await mkdir(dirname(out) || '.', { recursive: true });
  await writeFileAtomic(out, bytes);
  const files: string[] = [];
  if (opts.source && 'tokenizer' in tm) {
    const inBundle = bundleFiles(opts.source);
    for (const f of ['tokenizer.json', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
      const from = inBundle?.get(f) ?? join(opts.source, f);
      if (!existsSync(from)) continue;
      const to = join(dirname(out), f);
      await writeFileAtomic(to, await readFile(from));
      files.push(to);
    }
    const cfg = hfConfig(tm);
    const to = join(dirname(out), 'config.json');
    await writeFileAtomic(to, `${JSON.stringify(cfg, null, 2)}\n`);
    files.push(to);
  }
  return { out, bytes: bytes.length, opset: ONNX_OPSET, outputs: [opts.encoderOnly ? 'last_hidden_state' : 'logits'], files };
}

/** config.json as a Hugging Face BertForSequenceClassification export would have it. */
function hfConfig(tm: AnyTaskModel): Record<string, unknown> {
  if (!('tokenizer' in tm) || tm.task === 'reply') return {};
  const c = tm.model.bert.currentConfig();
  return {
    architectures: ['BertForSequenceClassification'], model_type: 'bert',
    vocab_size: c.vocabSize, hidden_size: c.hiddenSize, num_hidden_layers: c.numLayers, num_attention_heads: c.numHeads,
    intermediate_size: c.intermediateSize, hidden_act: c.hiddenAct, max_position_embeddings: c.maxPositions,
    type_vocab_size: c.typeVocabSize, layer_norm_eps: c.layerNormEps, pad_token_id: c.padTokenId,
    id2label: Object.fromEntries(tm.labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(tm.labels.map((l, i) => [l, i])),
    slimtext: { pooling: tm.model.pooling, use_pooler: tm.model.usePooler, max_length: tm.maxLength },
  };
}

/** The ModelProto bytes. */
export function encodeOnnx(tm: AnyTaskModel, opts: OnnxExportOptions = {}): Uint8Array {
  if (!('tokenizer' in tm) || tm.task === 'reply') {
    const what = 'kind' in tm ? 'a DAN student (n-gram features have no ONNX tokenizer: ship it as a bundle)' : `a ${tm.task} model`;
    throw new InputError(opts.source ?? 'model', undefined, 'architecture.kind', `ONNX export takes transformer classifiers; this is ${what}`);
  }
  const clf = tm.model;
  const cfg = clf.bert.currentConfig();
  const H = cfg.hiddenSize, nh = cfg.numHeads, d = H / nh;
  const params = new Map(clf.namedParameters().map(([n, p]) => [n, p] as const));
  const g = new Graph();
  const W = (name: string): string => {
    const p = params.get(name);
    if (!p) throw new Error(`internal: no parameter ${name}`);
    return g.init(name, [...p.shape], p.data);
  };
  /** x (.., in) -> x W^T + b, W stored [out, in]: the transpose is stored once as an initializer. */
  const linear = (x: string, name: string): string => {
    const p = params.get(`${name}.weight`)!;
    const [o, i] = p.shape as [number, number];
    const wt = new Float32Array(o * i);
    for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) wt[c * o + r] = p.data[r * i + c]!;
    const w = g.init(`${name}.weight_t`, [i, o], wt);
    return g.op('Add', [g.op('MatMul', [x, w]), W(`${name}.bias`)]);
  };
  const norm = (x: string, name: string): string => g.op('LayerNormalization', [x, W(`${name}.weight`), W(`${name}.bias`)], { axis: -1, epsilon: { float: cfg.layerNormEps } });
  const scalar = (v: number): string => g.init(`const_${g.count++}`, [], Float32Array.of(v));
  const ints = (v: number[]): string => g.init(`const_${g.count++}`, [v.length], BigInt64Array.from(v.map(BigInt)));

  // Embeddings: word + position (0..T-1) + token type, then LayerNorm.
  const T = g.op('Gather', [g.op('Shape', ['input_ids']), g.init('const_one_index', [], BigInt64Array.of(1n))], { axis: 0 });
  const positions = g.op('Range', [g.init('const_zero', [], BigInt64Array.of(0n)), T, g.init('const_step', [], BigInt64Array.of(1n))]);
  // A compressed word table goes into ONNX as its dense reconstruction (ONNX has no such lookups).
  const words = clf.bert.embeddings.word_embeddings;
  const we = g.op('Gather', [g.init('bert.embeddings.word_embeddings.weight', [words.rows, words.dim], words.toDense()), 'input_ids'], { axis: 0 });
  const pe = g.op('Gather', [W('bert.embeddings.position_embeddings.weight'), positions], { axis: 0 });
  const te = g.op('Gather', [W('bert.embeddings.token_type_embeddings.weight'), 'token_type_ids'], { axis: 0 });
  let x = norm(g.op('Add', [g.op('Add', [we, pe]), te]), 'bert.embeddings.LayerNorm');

  // Additive mask (B, 1, 1, T): 0 for tokens, -10000 for padding (engine/ops/attention.ts additiveMask).
  const maskF = g.op('Cast', ['attention_mask'], { to: DataType.FLOAT });
  const addMask = g.op('Unsqueeze', [g.op('Mul', [g.op('Sub', [scalar(1), maskF]), scalar(-10000)]), ints([1, 2])]);
  const heads = ints([0, 0, nh, d]);
  const merged = ints([0, 0, H]);
  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `bert.encoder.layer.${l}.`;
    const split = (y: string, perm: number[]): string => g.op('Transpose', [g.op('Reshape', [y, heads])], { perm });
    const q = split(linear(x, `${p}attention.self.query`), [0, 2, 1, 3]);
    const k = split(linear(x, `${p}attention.self.key`), [0, 2, 3, 1]);
    const v = split(linear(x, `${p}attention.self.value`), [0, 2, 1, 3]);
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, k]), scalar(1 / Math.sqrt(d))]), addMask]);
    const ctx = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [g.op('Softmax', [scores], { axis: 3 }), v])], { perm: [0, 2, 1, 3] }), merged]);
    const a = norm(g.op('Add', [linear(ctx, `${p}attention.output.dense`), x]), `${p}attention.output.LayerNorm`);
    const h = linear(a, `${p}intermediate.dense`);
    const act = cfg.hiddenAct === 'relu' ? g.op('Relu', [h]) : g.op('Mul', [g.op('Mul', [h, scalar(0.5)]), g.op('Add', [scalar(1), g.op('Erf', [g.op('Mul', [h, scalar(Math.SQRT1_2)])])])]);
    x = norm(g.op('Add', [linear(act, `${p}output.dense`), a]), `${p}output.LayerNorm`);
  }

  const inputs = ['input_ids', 'attention_mask', 'token_type_ids'].map((n) => valueInfo(n, DataType.INT64, ['batch', 'sequence']));
  let output: Msg;
  if (opts.encoderOnly) {
    g.op('Identity', [x], {}, 'last_hidden_state');
    output = valueInfo('last_hidden_state', DataType.FLOAT, ['batch', 'sequence', H]);
  } else {
    let v: string;
    if (clf.pooling === 'mean') {
      const m3 = g.op('Unsqueeze', [maskF, ints([2])]);
      const summed = g.op('ReduceSum', [g.op('Mul', [x, m3]), ints([1])], { keepdims: 0 });
      const count = g.op('Max', [g.op('ReduceSum', [maskF, ints([1])], { keepdims: 1 }), scalar(1)]);
      v = g.op('Div', [summed, count]);
    } else {
      v = g.op('Gather', [x, g.init('const_zero_index', [], BigInt64Array.of(0n))], { axis: 1 });
      if (clf.usePooler) v = g.op('Tanh', [linear(v, 'bert.pooler.dense')]);
    }
    g.op('Identity', [linear(v, 'classifier')], {}, 'logits');
    output = valueInfo('logits', DataType.FLOAT, ['batch', clf.numLabels]);
  }
  const graph = g.finish('slimtext', inputs, [output]);
  const model = new Msg()
    .int(1, 8) // IR version 8 (opset 17 era)
    .string(2, 'slimtext')
    .string(3, '0.1.0')
    .msg(7, graph)
    .msg(8, new Msg().string(1, '').int(2, ONNX_OPSET));
  for (const [k, v] of Object.entries({ labels: JSON.stringify(tm.labels), max_length: String(tm.maxLength), pooling: clf.pooling })) model.msg(14, new Msg().string(1, k).string(2, v));
  return model.finish();
}

class Graph {
  private readonly nodes: Msg[] = [];
  private readonly inits: Msg[] = [];
  private readonly names = new Set<string>();
  count = 0;

  init(name: string, dims: number[], data: Float32Array | BigInt64Array): string {
    if (this.names.has(name)) return name;
    this.names.add(name);
    this.inits.push(tensor(name, dims, data));
    return name;
  }

  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}, out?: string): string {
    const name = out ?? `${type.toLowerCase()}_${this.count++}`;
    this.nodes.push(node(type, inputs, [name], `${type}_${this.count++}`, attrs));
    return name;
  }

  finish(name: string, inputs: Msg[], outputs: Msg[]): Msg {
    const g = new Msg();
    for (const n of this.nodes) g.msg(1, n);
    g.string(2, name);
    for (const t of this.inits) g.msg(5, t);
    for (const i of inputs) g.msg(11, i);
    for (const o of outputs) g.msg(12, o);
    return g;
  }
}

