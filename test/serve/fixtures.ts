/**
 * Small models for the server tests, trained in seconds: transformer classifiers (classify, pair),
 * a reply bi-encoder and a DAN student, from the fine-tuning fixtures' tiny checkpoint and data.
 * Each is made once per test file and shared.
 */
import { join } from 'node:path';
import { finetune } from '../../src/train/finetune/finetune.js';
import { distillStudent } from '../../src/train/distill/student.js';
import { classData, pairData, replyData, tempDir, tinyCheckpoint } from '../train/fixtures.js';

let ckpt: Promise<string> | undefined;
const made = new Map<string, Promise<string>>();

async function transformer(task: 'classify' | 'pair' | 'reply', data: () => string, extra: object, seed: number): Promise<string> {
  ckpt ??= tinyCheckpoint();
  const out = join(tempDir('slimtext-serve-'), task);
  await finetune({ model: await ckpt, train: data(), out, recipe: { task, epochs: 3, lr: 1e-2, batchSize: 16, seed, ...extra } });
  return out;
}

function once(key: string, make: () => Promise<string>): Promise<string> {
  let p = made.get(key);
  if (!p) made.set(key, (p = make()));
  return p;
}

export const classifyModel = (seed = 1) => once(`classify${seed}`, () => transformer('classify', () => classData(256, 16), {}, seed));
export const pairModel = () => once('pair', () => transformer('pair', () => pairData(256, 16), { usePooler: false }, 1));
export const replyModel = () => once('reply', () => transformer('reply', () => replyData(96, 16), { responses: 6, lr: 1e-3, batchSize: 8 }, 1));

/** A DAN student trained on the gold labels of the classification data (no teacher needed). */
export const danModel = (seed = 1) =>
  once(`dan${seed}`, async () => {
    const out = join(tempDir('slimtext-serve-'), 'dan');
    const data = classData(256, 32);
    await distillStudent({ train: join(data, 'train.tsv'), dev: join(data, 'dev.tsv'), out, shape: { maxN: 2, dim: 16, hidden: 16, maxVocab: 10_000 }, recipe: { epochs: 4, lr: 0.01, workers: 1, seed }, workers: 1 });
    return out;
  });
