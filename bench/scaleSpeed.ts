/**
 * Distillation at scale, speed part (JSON on stdout): one-core throughput, raw text in, label out,
 * of a BERT-base-shaped teacher (12 layers x 768, 12 heads, 3072 inner, the 30,522-entry uncased
 * vocabulary; random weights: speed needs no trained ones) against a trained DAN student, measured
 * one after the other in this run (src/demo/throughput.ts, kernels on one thread).
 *
 * Usage: npx tsx bench/scaleSpeed.ts --student DIR [--texts PATH] [--teacher-texts N]
 *   [--max-length T] [--seconds S]   (texts: SST-2's test sentences by default)
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { getBackend } from '../src/engine/index.js';
import { collect, openDataset } from '../src/data/index.js';
import { loadDan } from '../src/models/dan.js';
import { BertModel } from '../src/models/bert/model.js';
import { SequenceClassifier } from '../src/models/classifier.js';
import { classifierLogits, plainEncode } from '../src/models/inference.js';
import { tokenizeAll } from '../src/models/textBatch.js';
import { loadTokenizer } from '../src/text/tokenizer.js';
import { studentThroughput, teacherThroughput } from '../src/demo/throughput.js';
import type { Teacher } from '../src/train/distill/teacher.js';
import { repoRoot } from './root.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const SHARED = process.env.SLIMTEXT_SHARED ?? join(repoRoot, '..', 'shared');
const studentDir = opt('student', '');
if (!studentDir) throw new Error('--student DIR is required (a DAN from slimtext distill)');
const textsPath = opt('texts', join(SHARED, 'data', 'sst2', 'test.tsv'));
const maxLength = Number(opt('max-length', '64'));
const seconds = Number(opt('seconds', '3'));
const ds = await openDataset(textsPath);
const texts = (await collect(ds.read(ds.splits[0]!))).map((e) => e.text);
const teacherTexts = texts.slice(0, Number(opt('teacher-texts', '128')));

const tok = loadTokenizer(join(SHARED, 'models', 'bert-base-uncased-vocab', 'vocab.txt'));
const config = { vocabSize: tok.vocabSize, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, hiddenAct: 'gelu' as const, maxPositions: 512, typeVocabSize: 2, layerNormEps: 1e-12, hiddenDropout: 0.1, attentionDropout: 0.1, padTokenId: 0 };
const model = new SequenceClassifier(new BertModel(config, { seed: 0 }), { numLabels: 2, pooling: 'mean', usePooler: false });
const encode = plainEncode(tok.padId >= 0 ? tok.padId : 0);
const teacher: Teacher = {
  labels: ['0', '1'],
  logits: (b) => classifierLogits(model, tokenizeAll(tok, b, undefined, maxLength), 64, encode),
  info: { architecture: 'bert-base-shaped, random weights', parameters: model.parameterCount() },
};
const student = await loadDan(studentDir);
const tt = teacherThroughput(teacher, teacherTexts, { minSeconds: seconds });
const sb = studentThroughput(student, texts, 'batch', { minSeconds: seconds });
const s1 = studentThroughput(student, texts, 'single', { minSeconds: seconds });
console.log(JSON.stringify({
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, backend: getBackend().name },
  texts: textsPath,
  teacher: { ...teacher.info, max_length: maxLength, texts_per_s: tt.textsPerSecond, texts: tt.texts, seconds: tt.seconds },
  student: { dir: studentDir, parameters: student.parameterCount(), batched_texts_per_s: sb.textsPerSecond, one_at_a_time_texts_per_s: s1.textsPerSecond },
  // From the unrounded teacher rate (a few texts/s: rounding it would move the ratio by tens of percent).
  speedup_batched: Math.round((sb.textsPerSecond / (tt.texts / tt.seconds)) * 10) / 10,
  speedup_one_at_a_time: Math.round((s1.textsPerSecond / (tt.texts / tt.seconds)) * 10) / 10,
}, null, 2));
