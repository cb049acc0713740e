/**
 * Hugging Face BERT checkpoint folders, read as users download them: config.json, model.safetensors
 * (or shards listed in model.safetensors.index.json), vocab.txt or tokenizer.json, and
 * tokenizer_config.json. Parameter names are mapped exactly, with or without the `bert.` prefix
 * that BertForMaskedLM / BertForSequenceClassification add, and with the old LayerNorm gamma/beta
 * names. What is missing (a pooler), extra, or a task head (`cls.*`, `classifier.*`) is reported,
 * not silently dropped; a tensor the encoder needs that is missing or mis-shaped is an InputError
 * naming the file, the tensor and both shapes.
 *
 * Also writes such a folder (`writeHfCheckpoint`), so that fine-tuned encoders can go back to the
 * Hugging Face tools and tests can build checkpoints without Python.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { readSafetensors, writeSafetensors, type SafeTensor, type TensorToWrite } from './safetensors.js';

/** The BERT fields of config.json, in camelCase, with Hugging Face's defaults filled in. */
export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  /** 'gelu' is the exact erf form, as BERT uses. */
  hiddenAct: 'gelu' | 'relu';
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  hiddenDropout: number;
  attentionDropout: number;
  padTokenId: number;
}

/** A float32 tensor on the host, row-major; linear weights are [out_features, in_features] as PyTorch stores them. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}
export interface LinearWeights {
  weight: HostTensor;
  bias: HostTensor;
}
export interface NormWeights {
  weight: HostTensor;
  bias: HostTensor;
}
export interface BertLayerWeights {
  query: LinearWeights;
  key: LinearWeights;
  value: LinearWeights;
  attentionOutput: LinearWeights;
  attentionNorm: NormWeights;
  intermediate: LinearWeights;
  output: LinearWeights;
  outputNorm: NormWeights;
}
export interface BertWeights {
  embeddings: { word: HostTensor; position: HostTensor; tokenType: HostTensor; norm: NormWeights };
  layers: BertLayerWeights[];
  /** Absent when the checkpoint has none (BertForMaskedLM): the caller initialises it and says so. */
  pooler?: LinearWeights;
}

export interface TokenizerFiles {
  vocabFile?: string;
  tokenizerJson?: string;
  /** Entries in the vocabulary (the highest token id + 1): tokenizer.json's when present, else vocab.txt's. */
  vocabSize: number;
  /** Vocabulary size per tokenizer file present. */
  sizes: Map<string, number>;
  /** tokenizer_config.json as read ({} when absent). */
  config: Record<string, unknown>;
  /** do_lower_case from tokenizer_config.json (undefined when it does not say). */
  doLowerCase?: boolean;
}

export interface CheckpointReport {
  /** The prefix the encoder's tensors carry in the file: 'bert.' or ''. */
  prefix: 'bert.' | '';
  /** Optional tensors the file lacks (the pooler), as they would be named in the file. */
  missing: string[];
  /** Task-head tensors (cls.*, classifier.*, qa_outputs.*): not part of the encoder, kept in `heads`. */
  heads: string[];
  /** Tensors this reader does not know (e.g. layers beyond num_hidden_layers): ignored. */
  unexpected: string[];
  /** Known non-parameter buffers that are ignored (embeddings.position_ids). */
  ignored: string[];
  /** Conversions and renames worth telling the user (F16 -> float32, gamma/beta names, defaults). */
  notes: string[];
}

export interface HfCheckpoint {
  dir: string;
  config: BertConfig;
  /** config.json as read, for fields this reader does not interpret (architectures, id2label, ...). */
  rawConfig: Record<string, unknown>;
  weights: BertWeights;
  /** Head tensors by their name in the file. */
  heads: Map<string, SafeTensor>;
  tokenizer: TokenizerFiles;
  report: CheckpointReport;
}

export interface ReadCheckpointOptions {
  /**
   * Accept a tokenizer vocabulary smaller than the embedding table (tables padded to a multiple of
   * 8 or 64 exist), with a note. Default true; false makes any mismatch an error. A vocabulary
   * larger than the table is always an error (the wrong vocab.txt beside the weights).
   */
  allowPaddedVocab?: boolean;
  /** Fail when there is no vocab.txt or tokenizer.json (default true). */
  requireTokenizer?: boolean;
}

/** Reads and checks a BERT checkpoint folder. */
export async function readHfCheckpoint(dir: string, opts: ReadCheckpointOptions = {}): Promise<HfCheckpoint> {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new InputError(dir, undefined, undefined, 'not a Hugging Face checkpoint folder: config.json is missing');
  const rawConfig = readJsonObject(configPath);
  const notes: string[] = [];
  const config = parseBertConfig(rawConfig, configPath, notes);

  const { tensors, fileOf, weightsFile } = await readWeights(dir, notes);
  const report: CheckpointReport = { prefix: '', missing: [], heads: [], unexpected: [], ignored: [], notes };
  const prefix = detectPrefix(tensors.keys());
  report.prefix = prefix;

  // Canonical (bare, weight/bias) name -> stored name.
  const canonical = new Map<string, string>();
  const heads = new Map<string, SafeTensor>();
  let renamed = 0;
  for (const name of tensors.keys()) {
    if (HEAD_PREFIXES.some((h) => name.startsWith(h))) {
      heads.set(name, tensors.get(name)!);
      report.heads.push(name);
    } else if (name.startsWith(prefix)) {
      const bare = name.slice(prefix.length);
      const c = bare.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
      if (c !== bare) renamed++;
      canonical.set(c, name);
    } else {
      report.unexpected.push(name);
    }
  }
  if (renamed > 0) notes.push(`${renamed} LayerNorm tensors use the old gamma/beta names (read as weight/bias)`);

  const expected = expectedShapes(config);
  const stored = (c: string): string => canonical.get(c) ?? `${prefix}${c}`;
  const missing = [...expected.keys()].filter((c) => !canonical.has(c) && !OPTIONAL.has(c));
  if (missing.length > 0) {
    const list = missing.slice(0, 8).map((c) => `${stored(c)} [${expected.get(c)!.join(', ')}]`).join(', ');
    throw new InputError(weightsFile, undefined, missing.length === 1 ? stored(missing[0]!) : undefined,
      `missing ${missing.length} tensor${missing.length > 1 ? 's' : ''} the encoder needs (config.json: ${config.numLayers} layers, hidden ${config.hiddenSize}): ${list}${missing.length > 8 ? ', ...' : ''}`);
  }
  const poolerHas = ['pooler.dense.weight', 'pooler.dense.bias'].filter((c) => canonical.has(c));
  if (poolerHas.length === 1) {
    const other = poolerHas[0] === 'pooler.dense.weight' ? 'pooler.dense.bias' : 'pooler.dense.weight';
    throw new InputError(fileOf(stored(poolerHas[0]!)), undefined, stored(other), 'missing, though its pair is present: a half pooler cannot be used');
  }
  if (poolerHas.length === 0) report.missing.push(stored('pooler.dense.weight'), stored('pooler.dense.bias'));

  const get = (c: string): HostTensor => {
    const name = stored(c);
    const t = tensors.get(name)!;
    const want = expected.get(c)!;
    if (!(t.data instanceof Float32Array)) {
      throw new InputError(fileOf(name), undefined, name, `dtype ${t.dtype} where a float tensor of shape [${want.join(', ')}] is expected`);
    }
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new InputError(fileOf(name), undefined, name, `shape [${t.shape.join(', ')}] but config.json implies [${want.join(', ')}] (${shapeReason(c, config)})`);
    }
    return { shape: t.shape, data: t.data };
  };
  const linear = (c: string): LinearWeights => ({ weight: get(`${c}.weight`), bias: get(`${c}.bias`) });

  const weights: BertWeights = {
    embeddings: {
      word: get('embeddings.word_embeddings.weight'),
      position: get('embeddings.position_embeddings.weight'),
      tokenType: get('embeddings.token_type_embeddings.weight'),
      norm: linear('embeddings.LayerNorm'),
    },
    layers: Array.from({ length: config.numLayers }, (_, i) => {
      const p = `encoder.layer.${i}.`;
      return {
        query: linear(`${p}attention.self.query`),
        key: linear(`${p}attention.self.key`),
        value: linear(`${p}attention.self.value`),
        attentionOutput: linear(`${p}attention.output.dense`),
        attentionNorm: linear(`${p}attention.output.LayerNorm`),
        intermediate: linear(`${p}intermediate.dense`),
        output: linear(`${p}output.dense`),
        outputNorm: linear(`${p}output.LayerNorm`),
      };
    }),
    ...(poolerHas.length === 2 ? { pooler: linear('pooler.dense') } : {}),
  };
  for (const [c, name] of canonical) {
    if (expected.has(c)) continue;
    if (IGNORED_BUFFERS.has(c)) report.ignored.push(name);
    else report.unexpected.push(name);
  }

  // Layers in the weights beyond config.json's num_hidden_layers are ignored: say so loudly, since
  // it usually means a config.json from another (smaller) model.
  const layerIds = report.unexpected.map((n) => /layer\.(\d+)\./.exec(n)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1]));
  if (layerIds.length) {
    notes.push(`warning: the weights hold ${Math.max(...layerIds) + 1} encoder layers but config.json says num_hidden_layers ${config.numLayers}: only the first ${config.numLayers} are used (is config.json from another model?)`);
  }
  const tokenizer = readTokenizerFiles(dir, opts.requireTokenizer ?? true);
  const rows = weights.embeddings.word.shape[0]!;
  // Both files are checked when both exist: tokenizers differ in which one they prefer.
  for (const [file, size] of tokenizer.sizes) {
    if (size === rows) continue;
    const wordName = stored('embeddings.word_embeddings.weight');
    if (size > rows || opts.allowPaddedVocab === false) {
      throw new InputError(file, undefined, undefined,
        `the vocabulary has ${size} entries but ${wordName} has ${rows} rows (shape [${weights.embeddings.word.shape.join(', ')}]): wrong vocabulary file for these weights?`);
    }
    notes.push(`the vocabulary in ${file} (${size} entries) is smaller than the embedding table (${rows} rows); the extra rows are unused`);
  }
  return { dir, config, rawConfig, weights, heads, tokenizer, report };
}

/** Human-readable lines about what loading found: missing pooler, heads, extras, conversions. */
export function describeCheckpoint(ck: HfCheckpoint): string[] {
  const r = ck.report;
  const c = ck.config;
  const lines = [`${ck.dir}: BERT, ${c.numLayers} layers, hidden ${c.hiddenSize}, ${c.numHeads} heads, intermediate ${c.intermediateSize}, vocabulary ${c.vocabSize}`];
  if (r.missing.length) lines.push(`no pooler in the checkpoint (${r.missing.join(', ')}): initialised when a pooled output is needed`);
  if (r.heads.length) lines.push(`task-head tensors not used by the encoder: ${summarise(r.heads)}`);
  if (r.unexpected.length) lines.push(`unexpected tensors, ignored: ${summarise(r.unexpected)}`);
  for (const n of r.notes) lines.push(n);
  return lines;
}

/** Parses the BERT fields of a config.json object; `notes` gets a line for each default used. */
export function parseBertConfig(raw: Record<string, unknown>, file: string, notes: string[] = []): BertConfig {
  const modelType = raw.model_type;
  if (modelType !== undefined && modelType !== 'bert') {
    throw new InputError(file, undefined, 'model_type', `'${String(modelType)}' is not supported (slimtext reads BERT checkpoints: model_type 'bert')`);
  }
  const pet = raw.position_embedding_type;
  if (pet !== undefined && pet !== 'absolute') {
    throw new InputError(file, undefined, 'position_embedding_type', `'${String(pet)}' is not supported (only 'absolute')`);
  }
  const int = (key: string, def?: number): number => {
    const v = raw[key];
    if (v === undefined && def !== undefined) {
      notes.push(`config.json has no ${key}: using ${def}`);
      return def;
    }
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < (key === 'pad_token_id' ? 0 : 1)) {
      throw new InputError(file, undefined, key, v === undefined ? 'missing (required)' : `must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const real = (key: string, def: number, max: number): number => {
    const v = raw[key];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !(v >= 0 && v < max)) throw new InputError(file, undefined, key, `must be a number in [0, ${max}), got ${JSON.stringify(v)}`);
    return v;
  };
  const act = raw.hidden_act ?? 'gelu';
  if (act !== 'gelu' && act !== 'relu') {
    throw new InputError(file, undefined, 'hidden_act', `'${String(act)}' is not supported (supported: 'gelu' (erf), 'relu')`);
  }
  const c: BertConfig = {
    vocabSize: int('vocab_size'),
    hiddenSize: int('hidden_size'),
    numLayers: int('num_hidden_layers'),
    numHeads: int('num_attention_heads'),
    intermediateSize: int('intermediate_size'),
    hiddenAct: act,
    maxPositions: int('max_position_embeddings', 512),
    typeVocabSize: int('type_vocab_size', 2),
    layerNormEps: real('layer_norm_eps', 1e-12, 1),
    hiddenDropout: real('hidden_dropout_prob', 0.1, 1),
    attentionDropout: real('attention_probs_dropout_prob', 0.1, 1),
    padTokenId: raw.pad_token_id === undefined ? 0 : int('pad_token_id'),
  };
  if (c.hiddenSize % c.numHeads !== 0) {
    throw new InputError(file, undefined, 'num_attention_heads', `hidden_size ${c.hiddenSize} is not a multiple of num_attention_heads ${c.numHeads}`);
  }
  return c;
}

/** config.json fields for a BertConfig (the inverse of parseBertConfig). */
export function bertConfigToJson(c: BertConfig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['BertModel'],
    model_type: 'bert',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    intermediate_size: c.intermediateSize,
    hidden_act: c.hiddenAct,
    hidden_dropout_prob: c.hiddenDropout,
    attention_probs_dropout_prob: c.attentionDropout,
    max_position_embeddings: c.maxPositions,
    type_vocab_size: c.typeVocabSize,
    layer_norm_eps: c.layerNormEps,
    pad_token_id: c.padTokenId,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
    ...extra,
  };
}

/** The encoder's tensors under their Hugging Face names (linear weights stay [out, in]). */
export function bertTensorsForHf(w: BertWeights, prefix: 'bert.' | '' = 'bert.'): Map<string, TensorToWrite> {
  const out = new Map<string, TensorToWrite>();
  const put = (name: string, t: HostTensor): void => void out.set(prefix + name, { shape: t.shape, data: t.data });
  const pair = (name: string, l: LinearWeights): void => {
    put(`${name}.weight`, l.weight);
    put(`${name}.bias`, l.bias);
  };
  put('embeddings.word_embeddings.weight', w.embeddings.word);
  put('embeddings.position_embeddings.weight', w.embeddings.position);
  put('embeddings.token_type_embeddings.weight', w.embeddings.tokenType);
  pair('embeddings.LayerNorm', w.embeddings.norm);
  w.layers.forEach((l, i) => {
    const p = `encoder.layer.${i}.`;
    pair(`${p}attention.self.query`, l.query);
    pair(`${p}attention.self.key`, l.key);
    pair(`${p}attention.self.value`, l.value);
    pair(`${p}attention.output.dense`, l.attentionOutput);
    pair(`${p}attention.output.LayerNorm`, l.attentionNorm);
    pair(`${p}intermediate.dense`, l.intermediate);
    pair(`${p}output.dense`, l.output);
    pair(`${p}output.LayerNorm`, l.outputNorm);
  });
  if (w.pooler) pair('pooler.dense', w.pooler);
  return out;
}

export interface WriteCheckpointInput {
  config: BertConfig;
  weights: BertWeights;
  /** vocab.txt lines, token id order. */
  vocab: string[];
  /** Extra tensors under their own names (e.g. `classifier.weight`). */
  heads?: Map<string, TensorToWrite>;
  prefix?: 'bert.' | '';
  /** Extra config.json fields (architectures, id2label, ...). */
  configExtra?: Record<string, unknown>;
  tokenizerConfig?: Record<string, unknown>;
}

/** Writes a checkpoint folder in Hugging Face layout; every file is written atomically. */
export async function writeHfCheckpoint(dir: string, input: WriteCheckpointInput): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tensors = bertTensorsForHf(input.weights, input.prefix ?? 'bert.');
  for (const [k, v] of input.heads ?? []) tensors.set(k, v);
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(bertConfigToJson(input.config, input.configExtra), null, 2)}\n`);
  await writeFileAtomic(join(dir, 'vocab.txt'), input.vocab.map((t) => `${t}\n`).join(''));
  await writeFileAtomic(join(dir, 'tokenizer_config.json'), `${JSON.stringify(input.tokenizerConfig ?? { do_lower_case: true, tokenizer_class: 'BertTokenizer' }, null, 2)}\n`);
}

// ------------------------------------------------------------------------------------------------

const HEAD_PREFIXES = ['cls.', 'classifier.', 'qa_outputs.'];
const OPTIONAL = new Set(['pooler.dense.weight', 'pooler.dense.bias']);
/** Buffers some checkpoints store that are not parameters. */
const IGNORED_BUFFERS = new Set(['embeddings.position_ids']);

function expectedShapes(c: BertConfig): Map<string, number[]> {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const m = new Map<string, number[]>([
    ['embeddings.word_embeddings.weight', [c.vocabSize, H]],
    ['embeddings.position_embeddings.weight', [c.maxPositions, H]],
    ['embeddings.token_type_embeddings.weight', [c.typeVocabSize, H]],
    ['embeddings.LayerNorm.weight', [H]],
    ['embeddings.LayerNorm.bias', [H]],
  ]);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `encoder.layer.${i}.`;
    for (const n of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      m.set(`${p}${n}.weight`, [H, H]);
      m.set(`${p}${n}.bias`, [H]);
    }
    for (const n of ['attention.output.LayerNorm', 'output.LayerNorm']) {
      m.set(`${p}${n}.weight`, [H]);
      m.set(`${p}${n}.bias`, [H]);
    }
    m.set(`${p}intermediate.dense.weight`, [I, H]);
    m.set(`${p}intermediate.dense.bias`, [I]);
    m.set(`${p}output.dense.weight`, [H, I]);
    m.set(`${p}output.dense.bias`, [H]);
  }
  m.set('pooler.dense.weight', [H, H]);
  m.set('pooler.dense.bias', [H]);
  return m;
}

/** Which config fields a tensor's expected shape comes from, for error messages. */
function shapeReason(c: string, cfg: BertConfig): string {
  if (c.startsWith('embeddings.word_')) return `vocab_size ${cfg.vocabSize}, hidden_size ${cfg.hiddenSize}`;
  if (c.startsWith('embeddings.position_')) return `max_position_embeddings ${cfg.maxPositions}, hidden_size ${cfg.hiddenSize}`;
  if (c.startsWith('embeddings.token_type_')) return `type_vocab_size ${cfg.typeVocabSize}, hidden_size ${cfg.hiddenSize}`;
  if (c.includes('intermediate.') || (/\.output\.dense\./.test(c) && !c.includes('attention'))) {
    return `hidden_size ${cfg.hiddenSize}, intermediate_size ${cfg.intermediateSize}`;
  }
  return `hidden_size ${cfg.hiddenSize}`;
}

/** 'bert.' when the encoder's tensors carry it (BertFor* classes), '' for a bare BertModel. */
function detectPrefix(names: Iterable<string>): 'bert.' | '' {
  for (const n of names) if (n.startsWith('bert.embeddings.') || n.startsWith('bert.encoder.')) return 'bert.';
  return '';
}

async function readWeights(dir: string, notes: string[]): Promise<{ tensors: Map<string, SafeTensor>; fileOf: (name: string) => string; weightsFile: string }> {
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  const tensors = new Map<string, SafeTensor>();
  const files = new Map<string, string>();
  const conversions: string[] = [];
  let weightsFile: string;
  if (existsSync(single)) {
    weightsFile = single;
    const f = await readSafetensors(single);
    for (const [k, v] of f.tensors) {
      tensors.set(k, v);
      files.set(k, single);
    }
    conversions.push(...f.notes);
  } else if (existsSync(index)) {
    weightsFile = index;
    const idx = readJsonObject(index);
    const map = idx.weight_map;
    if (map === null || typeof map !== 'object' || Array.isArray(map)) throw new InputError(index, undefined, 'weight_map', 'missing or not an object');
    const shards = new Map<string, string[]>();
    for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
      if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) throw new InputError(index, undefined, `weight_map.${name}`, `not a file name in this folder: ${JSON.stringify(file)}`);
      (shards.get(file) ?? shards.set(file, []).get(file)!).push(name);
    }
    for (const [file, names] of shards) {
      const path = join(dir, file);
      if (!existsSync(path)) throw new InputError(index, undefined, `weight_map.${names[0]}`, `shard ${file} is missing from ${dir}`);
      const f = await readSafetensors(path);
      for (const name of names) {
        const t = f.tensors.get(name);
        if (!t) throw new InputError(path, undefined, name, `listed in ${index} but not in this shard`);
        tensors.set(name, t);
        files.set(name, path);
      }
      const extra = [...f.tensors.keys()].filter((n) => !(n in (map as object)));
      if (extra.length) notes.push(`${file} holds ${extra.length} tensors not in the index, ignored: ${summarise(extra)}`);
      conversions.push(...f.notes);
    }
  } else {
    const others = ['pytorch_model.bin', 'tf_model.h5', 'flax_model.msgpack', 'model.onnx'].filter((f) => existsSync(join(dir, f)));
    throw new InputError(dir, undefined, undefined, others.length
      ? `has ${others.join(', ')} but no model.safetensors: slimtext reads safetensors only (in Python: model.save_pretrained(dir, safe_serialization=True))`
      : 'no model.safetensors or model.safetensors.index.json');
  }
  notes.push(...groupConversions(conversions));
  return { tensors, fileOf: (n) => files.get(n) ?? weightsFile, weightsFile };
}

/** "'a': F16 converted to float32" x 200 -> "200 tensors: F16 converted to float32". */
function groupConversions(lines: string[]): string[] {
  const counts = new Map<string, number>();
  for (const l of lines) {
    const what = l.replace(/^'[^']*': /, '');
    counts.set(what, (counts.get(what) ?? 0) + 1);
  }
  return [...counts].map(([what, n]) => `${n} tensor${n > 1 ? 's' : ''}: ${what}`);
}

function readTokenizerFiles(dir: string, require: boolean): TokenizerFiles {
  const vocabPath = join(dir, 'vocab.txt');
  const tjPath = join(dir, 'tokenizer.json');
  const tcPath = join(dir, 'tokenizer_config.json');
  const config = existsSync(tcPath) ? readJsonObject(tcPath) : {};
  const sizes = new Map<string, number>();
  if (existsSync(tjPath)) sizes.set(tjPath, tokenizerJsonVocabSize(tjPath));
  if (existsSync(vocabPath)) {
    // One token per line, as BertTokenizer reads it; the final newline does not start a token.
    const lines = readFileSync(vocabPath, 'utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    sizes.set(vocabPath, lines.length);
  }
  if (sizes.size === 0 && require) throw new InputError(dir, undefined, undefined, 'no vocab.txt or tokenizer.json: the checkpoint has no tokenizer');
  return {
    ...(existsSync(vocabPath) ? { vocabFile: vocabPath } : {}),
    ...(existsSync(tjPath) ? { tokenizerJson: tjPath } : {}),
    vocabSize: sizes.get(tjPath) ?? sizes.get(vocabPath) ?? 0,
    sizes,
    config,
    ...(typeof config.do_lower_case === 'boolean' ? { doLowerCase: config.do_lower_case } : {}),
  };
}

/** The highest token id in a tokenizer.json (WordPiece vocab and added tokens) + 1. */
function tokenizerJsonVocabSize(path: string): number {
  const tj = readJsonObject(path);
  const model = tj.model as { vocab?: unknown } | undefined;
  if (!model || !model.vocab || typeof model.vocab !== 'object' || Array.isArray(model.vocab)) {
    throw new InputError(path, undefined, 'model.vocab', 'not a WordPiece vocabulary (token -> id object), as BERT tokenizers have');
  }
  let maxId = -1;
  for (const id of Object.values(model.vocab as Record<string, unknown>)) if (typeof id === 'number' && id > maxId) maxId = id;
  for (const t of Array.isArray(tj.added_tokens) ? tj.added_tokens : []) {
    const id = (t as { id?: unknown }).id;
    if (typeof id === 'number' && id > maxId) maxId = id;
  }
  return maxId + 1;
}

function readJsonObject(path: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(path, undefined, undefined, `not valid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InputError(path, undefined, undefined, 'expected a JSON object');
  return v as Record<string, unknown>;
}

function summarise(names: string[]): string {
  return names.length <= 6 ? names.join(', ') : `${names.slice(0, 5).join(', ')}, ... (${names.length} in all)`;
}
