/**
 * Two small trained models of the same task for report tests: a tiny BERT classifier (fine-tuned,
 * with train_log.json) and a DAN student (trained on the labels, with distill_log.json), and an
 * evaluation file with the same labels. Made once per test process.
 */
import { join } from 'node:path';
import { finetune } from '../../src/train/finetune/finetune.js';
import { distillStudent } from '../../src/train/distill/student.js';
import { classData, classRows, dataFiles, tempDir, tinyCheckpoint, tsv } from '../train/fixtures.js';

export interface ReportModels {
  transformer: string;
  dan: string;
  /** A TSV with text and label columns, labels animal / greeting. */
  evalFile: string;
  work: string;
}

let made: Promise<ReportModels> | undefined;

export function reportModels(): Promise<ReportModels> {
  made ??= (async () => {
    const work = tempDir('slimtext-report-');
    const data = classData(96, 32);
    const transformer = join(work, 'bert-tiny');
    await finetune({ model: await tinyCheckpoint(), train: data, out: transformer, recipe: { task: 'classify', epochs: 3, lr: 1e-2, batchSize: 8, maxLength: 16 } });
    const dan = join(work, 'dan');
    await distillStudent({ train: data, out: dan, shape: { dim: 8, hidden: 8, maxVocab: 1000, maxN: 2 }, recipe: { epochs: 3, workers: 1, lr: 0.05 }, workers: 1 });
    const evalFile = join(dataFiles({ 'test.tsv': tsv(['text', 'label'], classRows(40, 9)) }), 'test.tsv');
    return { transformer, dan, evalFile, work };
  })();
  return made;
}
