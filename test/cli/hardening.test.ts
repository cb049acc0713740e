/**
 * Issue 16 (hardening), items 3-10 at the command line: output paths checked before any work with
 * one line naming the path, one overwrite rule, one line rule for stdin, one set of data options,
 * the same handling of unseen dev labels, partial results said, and the CLI rules of item 10.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dan, DanModel } from '../../src/models/dan.js';
import { vocabFromTexts } from '../../src/train/distill/vocab.js';
import { labelCorpus } from '../../src/train/distill/teacherLabels.js';
import { DATA_OPTIONS } from '../../src/cli/dataOptions.js';
import { chanceAccuracy, learningCheck } from '../../src/train/learningCheck.js';
import { runCli } from './inProcess.js';
import { slimtextArgv } from './distillRun.js';
import { repoRoot } from '../helpers.js';
import { TEACHER_LABELS, syntheticTeacher, writeCorpus } from '../train/distill/fixtures.js';
import { VOCAB, tinyCheckpoint } from '../train/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'slimtext-hardening-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], input?: string | Buffer) {
  return spawnSync(process.execPath, slimtextArgv(args), { encoding: 'utf8', cwd: repoRoot, input, timeout: 120_000 });
}

/** One line on stderr naming the path, no stack trace, exit 2. */
function assertPathError(r: { code: number; err: string }, path: string, why: RegExp): void {
  assert.equal(r.code, 2, r.err);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.ok(r.err.includes(path), r.err);
  assert.match(r.err, why);
  assert.doesNotMatch(r.err, /\n\s+at /);
}

const aFile = join(dir, 'a-file.txt');
writeFileSync(aFile, 'x\n');
const aFolder = join(dir, 'a-folder');
mkdirSync(aFolder);
writeFileSync(join(aFolder, 'slimtext.json'), '{}');

test('item 3: output paths are checked before any work, with one line naming the path', async () => {
  const label = (out: string) => runCli(['label', '--teacher', join(dir, 'no-teacher'), '--corpus', aFile, '--out', out]);
  assertPathError(await label('/nonexistent/x'), '/nonexistent/x', /there is no folder \/nonexistent/);
  assertPathError(await label(aFolder), aFolder, /is a folder; --out must name a file/);
  const finetune = (out: string) => runCli(['finetune', '--model', join(dir, 'no-model'), '--train', aFile, '--out', out]);
  assertPathError(await finetune(aFile), aFile, /is a file; --out must name a folder/);
  assertPathError(await finetune(join(aFile, 'sub')), join(aFile, 'sub'), /cannot be created/);
  assertPathError(await finetune('/proc/slimtext-out'), '/proc/slimtext-out', /cannot be written/);
});

test('item 5: one overwrite rule: finetune and distill refuse an existing model without --overwrite, and never mix into a foreign folder', async () => {
  for (const cmd of [['finetune', '--model', join(dir, 'no-model'), '--train', aFile], ['distill', '--train', aFile]]) {
    assertPathError(await runCli([...cmd, '--out', aFolder]), aFolder, /already exists; pass --overwrite/);
  }
  const teacherCopy = join(dir, 'teacher-copy');
  mkdirSync(teacherCopy);
  writeFileSync(join(teacherCopy, 'vocab.txt'), '[PAD]\n');
  writeFileSync(join(teacherCopy, 'config.json'), '{}');
  assertPathError(await runCli(['distill', '--train', aFile, '--out', teacherCopy, '--overwrite']), teacherCopy, /not a slimtext model's \(.*config\.json.*\); choose a new or empty folder/);
  const ngrams = await runCli(['ngrams', 'build', '--corpus', aFile, '--max-vocab', '10', '--out', aFile]);
  assertPathError(ngrams, aFile, /already exists; pass --overwrite/);
});

test('item 4: the same input gives the same number of lines in every command; invalid UTF-8 is the same error everywhere', async () => {
  const ckpt = await tinyCheckpoint();
  const corpus = join(dir, 'dan-corpus.txt');
  const lines = writeCorpus(corpus, 60);
  const vocab = await vocabFromTexts(lines, { maxVocab: 1000, maxN: 1, workers: 0 });
  const dan = join(dir, 'dan');
  await new Dan(new DanModel({ rows: vocab.size, dim: 8, hidden: 0, numLabels: 3, dropIds: 0 }, { seed: 2 }), vocab, { buckets: 0, maxN: 1 }, TEACHER_LABELS).save(dan);
  // A lone \r inside a line, a \r\n ending, an empty line, a last line without a newline: 4 lines.
  const input = `the cat\rsat\r\nhello\n\ndog ?`;
  const outputs = {
    tokenize: run(['tokenize', '--vocab', join(ckpt, 'vocab.txt')], input),
    predict: run(['predict', '--model', dan], input),
    encode: run(['encode', '--model', ckpt], input),
  };
  for (const [name, r] of Object.entries(outputs)) {
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    const n = name === 'encode' ? r.stdout.split('\n').filter((l) => /^\d+ tokens/.test(l)).length : r.stdout.split('\n').length - 1;
    assert.equal(n, 4, `${name} printed ${n} results for 4 input lines:\n${r.stdout}`);
  }
  const bad = Buffer.concat([Buffer.from('fine\n'), Buffer.from([0x61, 0xff, 0x62, 0x0a])]);
  for (const args of [['tokenize', '--vocab', join(ckpt, 'vocab.txt')], ['predict', '--model', dan], ['encode', '--model', ckpt]]) {
    const r = run(args, bad);
    assert.equal(r.status, 1, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /<stdin>:2: invalid UTF-8 \(byte 0xFF at byte 2\)/, args[0]);
  }
  assert.ok(VOCAB.length > 0);
});

test('item 6: finetune, eval, distill and data stats take the one set of data options', async () => {
  for (const cmd of ['finetune', 'eval', 'distill', 'data stats']) {
    const r = await runCli([...cmd.split(' '), '--help']);
    for (const opt of Object.keys(DATA_OPTIONS)) assert.match(r.out, new RegExp(`--${opt}\\b`), `${cmd} --help lacks --${opt}`);
  }
  const tsv = join(dir, 'semi.csv');
  writeFileSync(tsv, 'text;label\nhello there;greeting\n;greeting\nthe cat;animal\n');
  const stats = await runCli(['data', 'stats', tsv, '--delimiter', ';', '--skip-bad', '--json']);
  assert.equal(stats.code, 0, stats.err);
  assert.equal(JSON.parse(stats.out).splits.semi.rows, 2);
  assert.equal((await runCli(['eval', '--model', aFolder, '--data', tsv, '--header', 'maybe'])).code, 2);
});

test('item 7: distill reports dev labels the student cannot predict and goes on, in the words finetune uses', async () => {
  const train = join(dir, 'train.tsv');
  const dev = join(dir, 'dev.tsv');
  const rows = (n: number, labels: string[]) => Array.from({ length: n }, (_, i) => `${labels[i % labels.length]} word${i % 7}\t${labels[i % labels.length]}`).join('\n');
  writeFileSync(train, `text\tlabel\n${rows(40, ['red', 'blue'])}\n`);
  writeFileSync(dev, `text\tlabel\n${rows(9, ['red', 'blue', 'green'])}\n`);
  const r = await runCli(['distill', '--train', train, '--dev', dev, '--out', join(dir, 'unseen-dan'), '--epochs', '1', '--workers', '1', '--dim', '8', '--json']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /warning: dev \(.*dev\.tsv.*\): 3 of 9 rows have 1 label not seen in training: 'green' \(3 rows, first at line 4\); they are kept/);
});

test('item 9: distill over an unfinished logits file says partial, on stderr and in --json, even with --quiet', async () => {
  const corpus = join(dir, 'partial-corpus.txt');
  writeCorpus(corpus, 80);
  const logits = join(dir, 'partial.bin');
  let n = 0;
  await labelCorpus({ teacher: syntheticTeacher, corpus: [corpus], out: logits, batchSize: 8, chunkRows: 8, shouldStop: () => ++n >= 3 });
  const r = await runCli(['distill', '--teacher-logits', logits, '--out', join(dir, 'partial-dan'), '--epochs', '1', '--workers', '1', '--dim', '8', '--quiet', '--json']);
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  assert.equal(s.partial, true);
  assert.equal(s.finished, false);
  assert.match(r.err, /partial: .*partial\.bin is from an unfinished labelling run/);
});

test('item 10: --version, help CMD, group help, usage on stderr, negative values, zero counts, missing model folder', async () => {
  assert.match((await runCli(['--version'])).out, /^slimtext \d+\.\d+\.\d+$/);
  const help = await runCli(['help', 'eval']);
  assert.equal(help.code, 0);
  assert.match(help.out, /usage: slimtext eval/);
  assert.match(help.out, /examples:\n {2}slimtext eval/);
  assert.doesNotMatch(help.out, /VALUE/);
  for (const group of ['bench', 'data', 'ngrams']) {
    const g = await runCli([group, '--help']);
    assert.equal(g.code, 0);
    assert.match(g.out, new RegExp(`usage: slimtext ${group} <subcommand>`));
  }
  const none = await runCli([]);
  assert.equal(none.code, 2);
  assert.equal(none.out, '');
  assert.match(none.err, /usage: slimtext <command>/);
  const epochs = await runCli(['finetune', '--model', 'm', '--train', aFile, '--out', join(dir, 'e'), '--epochs', '-1']);
  assert.equal(epochs.code, 2);
  assert.match(epochs.err, /--epochs: must be an integer >= 1, got -1/);
  for (const args of [['eval', '--model', aFolder, '--data', aFile, '--batch-size', '0'], ['eval', '--model', aFolder, '--data', aFile, '--max-examples', '0'], ['bench', 'engine', '--reps', '0']]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, /must be a whole number >= 1, got 0/);
  }
  const missing = await runCli(['predict', '--model', '/missing-model']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /\/missing-model: no such folder/);
});

test('item 8: a run at chance or with a loss that does not fall is called out, with the fixes', () => {
  assert.equal(chanceAccuracy(Int32Array.of(0, 0, 0, 1)), 0.75);
  const c = learningCheck(1 / 64, 'a higher --lr');
  assert.match(c.afterEpoch(0, 4.1, 0.018)!, /not learning: dev accuracy 0\.0180 after epoch 1 is at chance .*likely fixes: a higher --lr/);
  assert.match(c.afterEpoch(1, 4.09, 0.02)!, /training loss 4\.0900 after epoch 2 has not fallen from 4\.1000/);
  const ok = learningCheck(1 / 64, 'x');
  assert.equal(ok.afterEpoch(0, 4.1, 0.4), undefined);
  assert.equal(ok.afterEpoch(1, 2.0, 0.6), undefined);
  assert.match(learningCheck(0.5, 'x').afterEpoch(0, Number.NaN, 0.5)!, /loss is NaN after epoch 1: training diverged; try a lower --lr/);
});

test('item 10: empty input is refused the same way; a moved corpus points to --corpus; a damaged logits header is called damaged', async () => {
  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '');
  const ngrams = await runCli(['ngrams', 'build', '--corpus', empty, '--max-vocab', '5', '--out', join(dir, 'empty.ngrams')]);
  assert.equal(ngrams.code, 1);
  assert.match(ngrams.err, /empty\.txt: the corpus holds no text/);
  const tsv = join(dir, 'empty.tsv');
  writeFileSync(tsv, 'text\tlabel\n');
  const distill = await runCli(['distill', '--train', tsv, '--out', join(dir, 'empty-dan')]);
  assert.equal(distill.code, 1);
  assert.match(distill.err, /empty\.tsv: holds no examples/);
  const stats = await runCli(['data', 'stats', tsv]);
  assert.equal(stats.code, 0);
  assert.match(stats.err, /warning: .* holds no examples/);

  const corpus = join(dir, 'moving.txt');
  writeCorpus(corpus, 20);
  const logits = join(dir, 'moving.bin');
  await labelCorpus({ teacher: syntheticTeacher, corpus: [corpus], out: logits });
  rmSync(corpus);
  const moved = await runCli(['distill', '--teacher-logits', logits, '--out', join(dir, 'moved-dan')]);
  assert.equal(moved.code, 1);
  assert.match(moved.err, /moving\.txt: .*names its corpus as slimtext label was given it .*pass --corpus/);

  const bytes = readFileSync(logits);
  bytes.write('{{{{', 112, 'ascii');
  writeFileSync(logits, bytes);
  const damaged = await runCli(['distill', '--teacher-logits', logits, '--out', join(dir, 'damaged-dan')]);
  assert.match(damaged.err, /file header is damaged/);
});

test('item 8: a student larger than its teacher is called out, and the default vocabulary is proportionate to the data', async () => {
  const corpus = join(dir, 'small-corpus.txt');
  writeCorpus(corpus, 60);
  const logits = join(dir, 'small-teacher.bin');
  const tiny = { labels: TEACHER_LABELS, logits: syntheticTeacher.logits, info: { kind: 'synthetic', parameters: 50 } };
  await labelCorpus({ teacher: tiny, corpus: [corpus], out: logits });
  const r = await runCli(['distill', '--teacher-logits', logits, '--out', join(dir, 'big-dan'), '--epochs', '1', '--workers', '1', '--dim', '16', '--json']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /warning: the student \([\d,]+ parameters\) is larger than its teacher \(50\); lower --max-vocab or --dim/);
  const log = JSON.parse(readFileSync(join(dir, 'big-dan', 'distill_log.json'), 'utf8')) as { shape: { maxVocab: number } };
  assert.equal(log.shape.maxVocab, 10_000, 'without --max-vocab, at most 10 n-grams per text (at least 10k), not a million');
});
