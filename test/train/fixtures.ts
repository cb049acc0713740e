/**
 * Fine-tuning fixtures: a tiny random BERT checkpoint written in Hugging Face layout from
 * TypeScript, and trivially learnable data sets (classification, pairs, message -> reply) as files
 * in a temporary folder that is removed at exit.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Rng } from '../../src/engine/index.js';
import { writeHfCheckpoint, type BertConfig } from '../../src/io/hfCheckpoint.js';
import { BertModel } from '../../src/models/bert/model.js';

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'slimtext-train-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

const ANIMAL = ['cat', 'dog', 'bird', 'fish'];
const GREETING = ['hello', 'hi', 'morning', 'welcome'];
const FILLER = ['the', 'a', 'on', 'big', 'small', 'red'];
export const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...ANIMAL, ...GREETING, ...FILLER, '.', '?', '##s'];

export function tinyConfig(over: Partial<BertConfig> = {}): BertConfig {
  return {
    vocabSize: VOCAB.length, hiddenSize: 16, numLayers: 3, numHeads: 2, intermediateSize: 32, hiddenAct: 'gelu',
    maxPositions: 32, typeVocabSize: 2, layerNormEps: 1e-12, hiddenDropout: 0.1, attentionDropout: 0.1, padTokenId: 0, ...over,
  };
}

/** Writes a randomly initialised checkpoint (no pooler, like an MLM checkpoint) and returns its folder. */
export async function tinyCheckpoint(over: Partial<BertConfig> = {}, seed = 7): Promise<string> {
  const dir = join(tempDir('slimtext-ckpt-'), 'bert');
  const config = tinyConfig(over);
  const model = new BertModel(config, { seed, pooler: false });
  await writeHfCheckpoint(dir, { config, weights: model.toWeights(), vocab: VOCAB });
  return dir;
}

/** `n` texts: an animal sentence (label 'animal') or a greeting (label 'greeting'), seeded. */
export function classRows(n: number, seed: number): [string, string][] {
  const rng = new Rng(seed);
  const pick = (xs: string[]) => xs[rng.int(xs.length)]!;
  return Array.from({ length: n }, () => {
    const animal = rng.next() < 0.5;
    const words = Array.from({ length: 1 + rng.int(4) }, () => pick(FILLER));
    words.splice(rng.int(words.length + 1), 0, pick(animal ? ANIMAL : GREETING));
    return [words.join(' '), animal ? 'animal' : 'greeting'];
  });
}

/** Pairs whose label is the class of the SECOND text (so the model must read the pair). */
export function pairRows(n: number, seed: number): [string, string, string][] {
  const a = classRows(n, seed);
  const b = classRows(n, seed + 1);
  return a.map(([t], i) => [t, b[i]![0], b[i]![1]]);
}

/** Message -> reply: the reply repeats the message's content word (animal or greeting) with fillers. */
export function replyRows(n: number, seed: number): [string, string][] {
  const rng = new Rng(seed);
  const content = [...ANIMAL, ...GREETING];
  const pick = (xs: string[]) => xs[rng.int(xs.length)]!;
  return Array.from({ length: n }, () => {
    const w = pick(content);
    const v = pick(content.filter((x) => x !== w));
    return [`${pick(FILLER)} ${w} ${v}`, `${v} ${pick(FILLER)} ${w} .`];
  });
}

/** Writes files (relative path -> content) into a new temporary folder; returns it. */
export function dataFiles(files: Record<string, string>): string {
  const dir = tempDir('slimtext-data-');
  for (const [rel, content] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return dir;
}

export function tsv(header: string[], rows: readonly (readonly string[])[]): string {
  return [header, ...rows].map((r) => r.join('\t')).join('\n') + '\n';
}

/** A classification data folder with train.tsv and dev.tsv. */
export function classData(nTrain = 96, nDev = 32): string {
  return dataFiles({ 'train.tsv': tsv(['text', 'label'], classRows(nTrain, 1)), 'dev.tsv': tsv(['text', 'label'], classRows(nDev, 2)) });
}

export function pairData(nTrain = 96, nDev = 32): string {
  return dataFiles({ 'train.tsv': tsv(['sentence1', 'sentence2', 'label'], pairRows(nTrain, 3)), 'dev.tsv': tsv(['sentence1', 'sentence2', 'label'], pairRows(nDev, 5)) });
}

export function replyData(nTrain = 128, nDev = 40): string {
  return dataFiles({ 'train.tsv': tsv(['message', 'reply'], replyRows(nTrain, 7)), 'dev.tsv': tsv(['message', 'reply'], replyRows(nDev, 8)) });
}

/**
 * `n` TSV lines (text, label) whose class shows in one colour word (red, green, blue) among noise
 * words w0..w199: what a bag of n-grams learns in a few epochs (the compress tests' data).
 */
export function colourRows(n: number, seed: number, names = ['c0', 'c1', 'c2']): string {
  const rng = new Rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const y = rng.int(3);
    const ws = Array.from({ length: 5 + rng.int(6) }, () => `w${rng.int(200)}`);
    ws[rng.int(ws.length)] = ['red', 'green', 'blue'][y]!;
    out.push(`${ws.join(' ')}\t${names[y]}`);
  }
  return out.join('\n') + '\n';
}
