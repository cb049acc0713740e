/**
 * compress --teacher-logits (issue 10, item 2): retrain / joint of a DAN student learns from the
 * teacher's logits over the training texts with distill's loss. A tiny DAN teacher labels the
 * training file with `slimtext label`; a student distilled from it is compressed jointly with and
 * without the logits (the losses and predictions differ), and bad input gets errors naming the
 * flag or file: another teacher's logits, another label set, logits of other texts, a transformer,
 * --mode posthoc.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BertModel } from '../../../src/models/bert/model.js';
import { SequenceClassifier } from '../../../src/models/classifier.js';
import { loadDan } from '../../../src/models/dan.js';
import { saveTaskModel } from '../../../src/models/taskModel.js';
import { writeHfCheckpoint } from '../../../src/io/hfCheckpoint.js';
import { loadTokenizer } from '../../../src/text/tokenizer.js';
import { compressModel } from '../../../src/train/compress/compress.js';
import { runCli } from '../../cli/inProcess.js';
import { withTempDir } from '../../io/tempDir.js';
import { colourRows as rows, tinyConfig, VOCAB } from '../fixtures.js';

async function ok(argv: string[]): Promise<string> {
  const r = await runCli(argv);
  assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
  return r.out;
}

const SMALL = ['--max-n', '2', '--hidden', '16', '--workers', '1', '--quiet', '--json'];

test('compress --teacher-logits: joint learns from the teacher (differs from gold-only joint); bad logits files, transformers and posthoc are refused', withTempDir(async (dir) => {
  const train = join(dir, 'train.tsv'), dev = join(dir, 'dev.tsv'), other = join(dir, 'other.tsv');
  await writeFile(train, rows(1500, 1));
  await writeFile(dev, rows(200, 2));
  await writeFile(other, rows(300, 1, ['x0', 'x1', 'x2']));
  const teacher = join(dir, 'teacher'), teacher2 = join(dir, 'teacher2'), teacher3 = join(dir, 'teacher3');
  await ok(['distill', '--train', train, '--dev', dev, '--out', teacher, '--dim', '32', '--epochs', '3', ...SMALL]);
  await ok(['distill', '--train', train, '--dev', dev, '--out', teacher2, '--dim', '24', '--epochs', '1', ...SMALL]);
  await ok(['distill', '--train', other, '--out', teacher3, '--dim', '24', '--epochs', '1', ...SMALL]);
  const logits = join(dir, 't.logits');
  await ok(['label', '--teacher', teacher, '--corpus', train, '--out', logits]);
  const student = join(dir, 'student');
  await ok(['distill', '--teacher-logits', logits, '--teacher', teacher, '--train', train, '--dev', dev, '--out', student, '--dim', '16', '--epochs', '6', '--lr', '1e-2', ...SMALL]);

  // No --dev: the last epoch is kept, so both runs return trained students.
  const base = ['compress', '--model', student, '--method', 'pq', '--pq-dsub', '4', '--pq-bits', '4', '--kmeans-iters', '3', '--mode', 'joint', '--train', train, '--epochs', '2', '--json'];
  const gold = JSON.parse(await ok([...base, '--out', join(dir, 'gold')]));
  const kd = JSON.parse(await ok([...base, '--teacher-logits', logits, '--alpha', '0.7', '--out', join(dir, 'kd')]));
  assert.equal(kd.mode, 'joint');
  assert.equal(kd.training.epochs.length, 2);
  for (let e = 0; e < 2; e++) {
    const a = gold.training.epochs[e].loss, b = kd.training.epochs[e].loss;
    assert.ok(Number.isFinite(b) && Math.abs(a - b) > 1e-3, `epoch ${e + 1}: loss ${b} with the teacher vs ${a} without`);
  }
  const acc = async (m: string) => JSON.parse(await ok(['eval', '--model', join(dir, m), '--data', dev, '--json'])).accuracy as number;
  const [ga, ka] = [await acc('gold'), await acc('kd')];
  assert.ok(ka > 0.7 && ga > 0.7, `dev accuracy ${ka} with the teacher, ${ga} without`);
  const texts = (await readFile(dev, 'utf8')).trim().split('\n').slice(0, 50).map((l) => l.split('\t')[0]!);
  const pg = (await loadDan(join(dir, 'gold'))).predict(texts), pk = (await loadDan(join(dir, 'kd'))).predict(texts);
  let diff = 0;
  for (let i = 0; i < pg.length; i++) diff = Math.max(diff, Math.abs(pg[i]! - pk[i]!));
  assert.ok(diff > 1e-3, `the teacher changed the student's logits (max difference ${diff})`);
  const info = JSON.parse(await ok(['inspect', '--model', join(dir, 'kd'), '--json']));
  assert.equal(info.compression.teacher_logits, logits);
  assert.equal(info.compression.alpha, 0.7);

  const fails = async (extra: string[], out: string, re: RegExp) => {
    const r = await runCli([...base, ...extra, '--out', join(dir, out)]);
    assert.notEqual(r.code, 0, `${extra.join(' ')} should fail`);
    assert.match(r.err, re);
  };
  const logits2 = join(dir, 't2.logits'), logits3 = join(dir, 't3.logits'), devLogits = join(dir, 'dev.logits');
  await ok(['label', '--teacher', teacher2, '--corpus', train, '--out', logits2]);
  await ok(['label', '--teacher', teacher3, '--corpus', train, '--out', logits3]);
  await ok(['label', '--teacher', teacher, '--corpus', dev, '--out', devLogits]);
  await fails(['--teacher-logits', logits2], 'e1', /t2\.logits.*labelled by another teacher.*teacher2.*distilled from/);
  await fails(['--teacher-logits', logits3], 'e2', /t3\.logits.*labels.*--teacher-logits.*x0, x1, x2.*c0, c1, c2/);
  await fails(['--teacher-logits', devLogits], 'e3', /train\.tsv:1.*1500 training texts have no row in --teacher-logits .*dev\.logits.*fingerprint/);
  await fails(['--teacher-logits', logits, '--alpha', '0'], 'e4', /--alpha.*\(0, 1\]/);
  const post = await runCli(['compress', '--model', student, '--method', 'int8', '--mode', 'posthoc', '--teacher-logits', logits, '--out', join(dir, 'e5')]);
  assert.notEqual(post.code, 0);
  assert.match(post.err, /--teacher-logits.*--mode posthoc does not train/);
  const noKd = await runCli(['compress', '--model', student, '--method', 'int8', '--alpha', '0.5', '--out', join(dir, 'e6')]);
  assert.match(noKd.err, /--alpha.*give --teacher-logits/);

  // A transformer classifier: not supported, said before anything trains.
  const ckpt = join(dir, 'ckpt');
  const config = tinyConfig();
  const bert = new BertModel(config, { seed: 4, pooler: false });
  await writeHfCheckpoint(ckpt, { config, weights: bert.toWeights(), vocab: VOCAB });
  const clf = join(dir, 'clf');
  await saveTaskModel(clf, { task: 'classify', model: new SequenceClassifier(bert, { numLabels: 3, seed: 5, pooling: 'mean' }), labels: ['c0', 'c1', 'c2'], tokenizer: loadTokenizer(ckpt), maxLength: 12 }, { tokenizerFiles: [join(ckpt, 'vocab.txt')] });
  await assert.rejects(
    compressModel({ model: clf, methods: 'int8', mode: 'retrain', train, teacherLogits: logits, out: join(dir, 'e7') }),
    /--teacher-logits.*DAN students only.*classify transformer/,
  );
}));
