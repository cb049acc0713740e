/**
 * Held-out evaluation of a saved model (`slimtext eval`, the finetune bench): classification
 * accuracy and macro-F1, or for reply suggestion the 1-of-100 retrieval test, plus throughput
 * (examples per second through tokenisation and the forward pass; reading the file excluded).
 */
import type { OpenOptions } from '../../data/index.js';
import { unseenLabels, unseenWarning, LabelMap } from '../../data/index.js';
import { classifierLogits, plainEncode, sideVectors } from '../../models/inference.js';
import { isDan, type AnyTaskModel } from '../../models/anyModel.js';
import type { Quantize } from '../../models/bert/fastForward.js';
import { SlimtextError } from '../../errors.js';
import { tokenizeAll } from '../../models/textBatch.js';
import { classifierMetrics } from './classify.js';
import { oneOfNRetrieval } from './retrieval.js';
import { readSplit, requireFields, subsample } from './taskData.js';

export interface EvalOptions {
  /** Split to evaluate (default: the only split, else test). */
  split?: string;
  data?: OpenOptions;
  batchSize?: number;
  /** Evaluate a seeded sample of at most N examples (0: all). */
  maxExamples?: number;
  /** Seed of that sample and of the retrieval candidates (default 0). */
  seed?: number;
  warn?: (line: string) => void;
  /** 'int8': dynamic int8 quantisation of the encoder's linear layers (BERT models; a model saved as int8 runs int8 anyway). */
  quantize?: Quantize;
}

export type EvalReport = Record<string, number | string>;

export async function evaluateTaskModel(tm: AnyTaskModel, path: string, opts: EvalOptions = {}): Promise<EvalReport> {
  const rows = await readSplit(path, opts.split, 'test', opts.data, tm.task);
  if (rows.skipped) opts.warn?.(rows.skipped);
  requireFields(rows.examples, tm.task, rows.file);
  const seed = opts.seed ?? 0;
  const examples = subsample(rows.examples, opts.maxExamples ?? 0, seed, 'eval');
  const batchSize = opts.batchSize ?? 128;
  const quantize = opts.quantize ?? 'none';
  if (quantize !== 'none' && isDan(tm)) throw new SlimtextError(`--quantize ${quantize} applies to BERT models; this is a DAN model`);
  if (tm.task === 'reply') {
    const tok = tm.tokenizer;
    const encode = plainEncode(tok.padId >= 0 ? tok.padId : 0, { quantize });
    const t0 = performance.now();
    const msgs = tokenizeAll(tok, examples.map((e) => e.text), undefined, tm.maxLength);
    const replies = tokenizeAll(tok, examples.map((e) => e.target!), undefined, tm.maxLength);
    const u = sideVectors(tm.model, 'message', msgs, batchSize, encode);
    const v = sideVectors(tm.model, 'reply', replies, batchSize, encode);
    const seconds = (performance.now() - t0) / 1000;
    const r = oneOfNRetrieval(u, v, tm.model.messageEncoder.config.hiddenSize, { seed });
    return { ...r, throughput_per_s: round(examples.length / seconds), split: rows.split };
  }
  const map = LabelMap.fromJSON({ version: 1, labels: tm.labels });
  const unseen = unseenWarning(await unseenLabels(map, examples, rows.split));
  if (unseen) opts.warn?.(unseen);
  // Timed from raw text to logits: tokenisation or n-gram featurisation included.
  const t0 = performance.now();
  let logits: Float32Array;
  if (isDan(tm)) {
    logits = tm.dan.predict(examples.map((e) => e.text));
  } else {
    const tok = tm.tokenizer;
    const set = tokenizeAll(tok, examples.map((e) => e.text), tm.task === 'pair' ? examples.map((e) => e.pair!) : undefined, tm.maxLength);
    logits = classifierLogits(tm.model, set, batchSize, plainEncode(tok.padId >= 0 ? tok.padId : 0, { quantize }));
  }
  const seconds = (performance.now() - t0) / 1000;
  return { ...classifierMetrics(logits, map.encode(examples), tm.labels.length), throughput_per_s: round(examples.length / seconds), split: rows.split };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
