/**
 * Writes a model as one `.slim` file for the runtime (format: runtime/format.ts, shared with the
 * reader on purpose so the two cannot drift).
 *
 * Vocabularies are stored front-coded in byte-sorted order, and the embedding rows are permuted to
 * that order at export, so a string's rank in the list *is* its row: no id array is stored. The
 * other compact form, a minimal perfect hash with fingerprints, would be smaller (see BENCHMARKS.md
 * "Shipping") but answers an n-gram outside the vocabulary with a wrong row once per 2^bits
 * lookups, where the DAN must hash it to a bucket: front coding keeps the strings and stays exact.
 *
 *   DAN:          table tensors as the model keeps them (dense f32/f16, int8/int4, low rank, PQ,
 *                 codes), hidden/output layers f32, the n-gram list
 *   transformer:  every weight f32, the WordPiece list
 *   with dtype 'f16' every float tensor is stored as float16 (lossy; the runtime widens it at load)
 */
import { basename } from 'node:path';
import { InputError } from '../errors.js';
import type { AnyTaskModel, DanTaskModel } from '../models/anyModel.js';
import type { MultiTaskModel } from '../models/multiTask.js';
import type { BertModel } from '../models/bert/model.js';
import type { WordPieceTokenizer } from '../text/tokenizer.js';
import { f16Bits } from './half.js';
import { writeFileAtomic } from './atomic.js';
import type { TensorToWrite } from './safetensors.js';
import { checkOutputPath } from './outputPath.js';
import {
  HEADER_BYTES, MAGIC, MULTITASK_FORMAT_VERSION, SINGLE_TASK_FORMAT_VERSION, TASK_PREFIX, align8, crc32, encodeFrontCoded,
  type BlobDtype, type MultiTaskInfo, type SlimManifest, type StringsEntry, type TableInfo, type TensorEntry, type TransformerInfo,
} from '../runtime/format.js';

export interface SlimExportOptions {
  /** Float tensors: 'f32' (default: as the model keeps them, so the runtime equals slimtext) or 'f16' (all of them, table codebooks and scales included: lossy, half the float bytes). */
  dtype?: 'f32' | 'f16';
  /** Shown in the manifest's meta (where the model came from). */
  source?: string;
  /** Replace an existing file (otherwise refused, as every --out is). */
  overwrite?: boolean;
}

/** Table tensors with one row per id (permuted with the vocabulary); codebooks and v are shared. */
const PER_ROW = new Set(['weight', 'q', 'scale_bias', 'u', 'codes', 'norm_codes']);
/** models/taskModel.ts WORD_TABLE_PREFIX (restated: io/ takes only types from models/). */
const WORD_PREFIX = 'bert.embeddings.word_embeddings.';

/** The bundle's bytes. */
export function encodeSlimBundle(tm: AnyTaskModel, opts: SlimExportOptions = {}): Uint8Array {
  const w = new BlobWriter(opts.dtype ?? 'f32');
  let manifest: Omit<SlimManifest, 'tensors' | 'strings' | 'dataBytes'>;
  const meta = { exportedBy: 'slimtext export', ...(opts.source ? { source: basename(opts.source) } : {}), floatDtype: opts.dtype ?? 'f32' };
  if (isDanModel(tm)) {
    const dan = tm.dan;
    const V = dan.vocab.size;
    const order = byteSorted(dan.vocab.ngrams);
    w.strings('ngrams', order.map((i) => dan.vocab.ngrams[i]!));
    const spec = dan.model.embeddings.spec();
    const c = dan.model.config;
    for (const [name, t] of dan.model.tensors()) {
      const table = name.startsWith('embeddings.');
      w.tensor(name, table && PER_ROW.has(name.slice('embeddings.'.length)) ? permuteRows(t, order, spec.rows) : t, table);
    }
    const table: TableInfo = { kind: spec.kind, rows: spec.rows, dim: spec.dim, ...(spec.rank ? { rank: spec.rank } : {}), ...(spec.books ? { books: spec.books, words: spec.words } : {}), ...(spec.qnorm ? { qnorm: true } : {}) };
    manifest = {
      format: 'slimtext-bundle', version: SINGLE_TASK_FORMAT_VERSION, kind: 'dan', task: 'classify', labels: [...tm.labels],
      dan: { vocab: V, buckets: dan.features.buckets, maxN: dan.features.maxN, lowercase: dan.vocab.meta.lowercase, dim: c.dim, hidden: c.hidden, table },
      meta,
    };
  } else if (tm.task === 'classify') {
    const transformer = writeEncoder(w, tm.tokenizer, tm.model.bert, '', opts.source, { pooling: tm.model.pooling, usePooler: tm.model.usePooler, maxLength: tm.maxLength });
    for (const [name, p] of tm.model.namedParameters()) if (!name.startsWith('bert.')) w.tensor(name, { shape: [...p.shape], data: p.data }, false);
    if (tm.model.bert.pooler) for (const [name, p] of tm.model.namedParameters()) if (name.startsWith('bert.pooler.')) w.tensor(name, { shape: [...p.shape], data: p.data }, false);
    manifest = { format: 'slimtext-bundle', version: SINGLE_TASK_FORMAT_VERSION, kind: 'transformer', task: 'classify', labels: [...tm.labels], transformer, meta };
  } else {
    throw new InputError(opts.source ?? 'model', undefined, 'task', `bundles hold classifiers (DAN students and sequence classifiers); this is a ${tm.task} model`);
  }
  return w.finish(manifest);
}

/** Exports a model folder's model to one file, atomically. */
export async function writeSlimBundle(path: string, tm: AnyTaskModel, opts: SlimExportOptions = {}): Promise<number> {
  checkOutputPath(path, { kind: 'file', overwrite: opts.overwrite });
  const bytes = encodeSlimBundle(tm, opts);
  await writeFileAtomic(path, bytes);
  return bytes.length;
}

/**
 * A multi-task model (slimtext merge) as one bundle: the trunk's tensors once, under their own
 * names, and each task's branch (its encoder layers from its start layer, pooler, classifier)
 * under `task.<name>.` + the standalone model's names. Format version 2 (MULTITASK_FORMAT_VERSION),
 * so a runtime that predates multi-task bundles refuses one as newer instead of misreading it;
 * single-task bundles stay version 1.
 */
export function encodeMultiTaskBundle(mt: MultiTaskModel, opts: SlimExportOptions = {}): Uint8Array {
  const w = new BlobWriter(opts.dtype ?? 'f32');
  const meta = { exportedBy: 'slimtext export', ...(opts.source ? { source: basename(opts.source) } : {}), floatDtype: opts.dtype ?? 'f32' };
  const transformer = writeEncoder(w, mt.tokenizer, mt.trunk, '', opts.source, { pooling: 'cls', usePooler: false, maxLength: mt.maxLength });
  const tasks: MultiTaskInfo[] = mt.branches.map((b) => {
    const s = b.spec;
    for (const [name, p] of b.model.namedParameters()) {
      if (isOwnTensor(name, s.start_layer)) w.tensor(`${TASK_PREFIX}${s.name}.${name}`, { shape: [...p.shape], data: p.data }, false);
    }
    return { name: s.name, labels: [...s.labels], startLayer: s.start_layer, layers: s.layers, pooling: b.model.pooling, usePooler: b.model.usePooler };
  });
  return w.finish({ format: 'slimtext-bundle', version: MULTITASK_FORMAT_VERSION, kind: 'multitask', task: 'multitask', labels: [], transformer, tasks, meta });
}

/** Exports a multi-task model folder's model to one file, atomically. */
export async function writeMultiTaskBundle(path: string, mt: MultiTaskModel, opts: SlimExportOptions = {}): Promise<number> {
  checkOutputPath(path, { kind: 'file', overwrite: opts.overwrite });
  const bytes = encodeMultiTaskBundle(mt, opts);
  await writeFileAtomic(path, bytes);
  return bytes.length;
}

/** models/multiTask.ts isBranchTensor, restated (io/ takes only types from models/). */
function isOwnTensor(name: string, startLayer: number): boolean {
  const m = /^bert\.encoder\.layer\.(\d+)\./.exec(name);
  if (m) return Number(m[1]) >= startLayer;
  return !name.startsWith('bert.embeddings.');
}

/**
 * The WordPiece vocabulary (byte-sorted, ids renumbered to match), the embeddings (the word table
 * in whatever form the model keeps it, dense or compressed) and every encoder layer of `bert`,
 * under `prefix`; returns the manifest's description of them.
 */
function writeEncoder(
  w: BlobWriter, tok: WordPieceTokenizer, bert: BertModel, prefix: string, source: string | undefined,
  head: { pooling: 'cls' | 'mean'; usePooler: boolean; maxLength: number },
): TransformerInfo {
  const cfg = bert.currentConfig();
  const vocab = Array.from({ length: tok.vocabSize }, (_, i) => tok.idToToken(i) ?? '');
  if (new Set(vocab).size !== vocab.length) throw new InputError(source ?? 'model', undefined, 'tokenizer', 'the vocabulary has repeated or missing tokens: cannot store it front-coded');
  const order = byteSorted(vocab);
  const rank = new Int32Array(vocab.length);
  order.forEach((old, r) => (rank[old] = r));
  w.strings('wordpiece', order.map((i) => vocab[i]!));
  const special: Record<string, number> = {};
  for (const id of [tok.clsId, tok.sepId, tok.padId, tok.unkId, tok.maskId]) if (id >= 0) special[vocab[id]!] = rank[id]!;
  const words = bert.embeddings.word_embeddings;
  for (const [name, p] of bert.namedParameters('bert')) {
    if (!name.startsWith(WORD_PREFIX) && !name.startsWith('bert.pooler.')) w.tensor(`${prefix}${name}`, { shape: [...p.shape], data: p.data }, false);
  }
  for (const [name, t] of words.tensors(WORD_PREFIX)) w.tensor(`${prefix}${name}`, PER_ROW.has(name.slice(WORD_PREFIX.length)) ? permuteRows(t, order, vocab.length) : t, true);
  const ws = words.spec();
  const wordTable: TableInfo = { kind: ws.kind, rows: ws.rows, dim: ws.dim, ...(ws.rank ? { rank: ws.rank } : {}), ...(ws.books ? { books: ws.books, words: ws.words } : {}), ...(ws.qnorm ? { qnorm: true } : {}) };
  return {
    hiddenSize: cfg.hiddenSize, numLayers: cfg.numLayers, numHeads: cfg.numHeads, intermediateSize: cfg.intermediateSize,
    act: cfg.hiddenAct, eps: cfg.layerNormEps, maxPositions: cfg.maxPositions,
    pooling: head.pooling, usePooler: head.usePooler, maxLength: head.maxLength, wordTable,
    tokenizer: { lowercase: tok.lowercase, stripAccents: tok.lowercase, cls: rank[tok.clsId]!, sep: rank[tok.sepId]!, unk: rank[tok.unkId]!, special, prefix: '##', maxCharsPerWord: 100 },
  };
}

// ------------------------------------------------------------------------------------------------

/** models/anyModel's isDan, restated so io/ takes only types from models/ (models import io/). */
function isDanModel(tm: AnyTaskModel): tm is DanTaskModel {
  return 'kind' in tm && tm.kind === 'dan';
}

/** Indices of `strings` in UTF-8 byte order (the order front coding and the runtime expect). */
function byteSorted(strings: readonly string[]): number[] {
  const enc = strings.map((s) => Buffer.from(s, 'utf8'));
  return strings.map((_, i) => i).sort((a, b) => Buffer.compare(enc[a]!, enc[b]!));
}

/** Rows 0..order.length-1 reordered so new row r is old row order[r]; rows past that stay put. */
function permuteRows(t: TensorToWrite, order: readonly number[], rows: number): TensorToWrite {
  if (t.shape[0] !== rows) throw new Error(`internal: tensor of ${t.shape[0]} rows, expected ${rows}`);
  const width = t.data.length / rows;
  const Ctor = t.data.constructor as new (n: number) => TensorToWrite['data'];
  const out = new Ctor(t.data.length);
  out.set(t.data);
  for (let r = 0; r < order.length; r++) out.set(t.data.subarray(order[r]! * width, (order[r]! + 1) * width), r * width);
  return { ...t, data: out };
}

class BlobWriter {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  readonly tensors: Record<string, TensorEntry> = {};
  readonly stringLists: Record<string, StringsEntry> = {};

  constructor(private readonly floatDtype: 'f32' | 'f16') {}

  /** Float tensors go as the model keeps them (a table stored f16 stays f16), or all f16 when the export asks. */
  tensor(name: string, t: TensorToWrite, keepOwnDtype: boolean): void {
    let dtype: BlobDtype;
    let bytes: Uint8Array;
    if (t.data instanceof Float32Array) {
      const half = this.floatDtype === 'f16' || (keepOwnDtype && t.dtype === 'F16');
      if (half) {
        const h = new Uint16Array(t.data.length);
        for (let i = 0; i < h.length; i++) h[i] = f16Bits(t.data[i]!);
        bytes = new Uint8Array(h.buffer);
        dtype = 'f16';
      } else {
        bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
        dtype = 'f32';
      }
    } else if (t.data instanceof Uint8Array) {
      bytes = t.data;
      dtype = 'u8';
    } else if (t.data instanceof Int32Array) {
      bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      dtype = 'i32';
    } else {
      throw new Error(`internal: tensor ${name} of an unsupported type`);
    }
    this.tensors[name] = { dtype, shape: [...t.shape], offset: this.size, bytes: bytes.length };
    this.push(bytes);
  }

  strings(name: string, sorted: readonly string[]): void {
    const b = encodeFrontCoded(sorted);
    this.stringLists[name] = { encoding: 'front-coded', count: sorted.length, offset: this.size, bytes: b.length };
    this.push(b);
  }

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
    const pad = align8(this.size) - this.size;
    if (pad) {
      this.chunks.push(new Uint8Array(pad));
      this.size += pad;
    }
  }

  finish(head: Omit<SlimManifest, 'tensors' | 'strings' | 'dataBytes'>): Uint8Array {
    const manifest: SlimManifest = { ...head, tensors: this.tensors, strings: this.stringLists, dataBytes: this.size };
    const json = new TextEncoder().encode(JSON.stringify(manifest));
    const base = align8(HEADER_BYTES + json.length);
    const out = new Uint8Array(base + this.size + 4);
    out.set(new TextEncoder().encode(MAGIC), 0);
    const dv = new DataView(out.buffer);
    dv.setUint32(8, manifest.version, true);
    dv.setUint32(12, json.length, true);
    out.set(json, HEADER_BYTES);
    out.fill(0x20, HEADER_BYTES + json.length, base);
    let o = base;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    dv.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
    return out;
  }
}
