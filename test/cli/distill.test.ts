import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDan } from '../../src/models/dan.js';
import { argmaxRows } from '../../src/models/inference.js';
import { labelCorpus } from '../../src/train/distill/teacherLabels.js';
import { spawnSync } from 'node:child_process';
import { slimtext, slimtextArgv } from './distillRun.js';
import { repoRoot } from '../helpers.js';
import { TEACHER_LABELS, sentences, syntheticTeacher, teacherLogits, writeCorpus } from '../train/distill/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'slimtext-distill-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** A transfer corpus labelled by the synthetic teacher, and gold-labelled train / dev files. */
async function fixtures(): Promise<{ logits: string; train: string; dev: string; corpus: string }> {
  const corpus = join(dir, 'corpus.txt');
  writeCorpus(corpus, 2500, 3);
  const logits = join(dir, 'l.bin');
  await labelCorpus({ teacher: syntheticTeacher, corpus: [corpus], out: logits });
  const jsonl = (path: string, texts: string[]) => {
    const y = argmaxRows(teacherLogits(texts), 3);
    writeFileSync(path, texts.map((t, i) => JSON.stringify({ text: t, label: TEACHER_LABELS[y[i]!] })).join('\n') + '\n');
    return path;
  };
  return { logits, corpus, train: jsonl(join(dir, 'train.jsonl'), sentences(300, 4)), dev: jsonl(join(dir, 'dev.jsonl'), sentences(300, 5)) };
}

const fx = fixtures();

test('distill: trains a student from teacher logits, keeps the best on dev, and the bundle loads', async () => {
  const f = await fx;
  const out = join(dir, 'student');
  const r = slimtext(['distill', '--teacher-logits', f.logits, '--train', f.train, '--dev', f.dev, '--out', out, '--max-n', '1', '--dim', '24', '--hidden', '24', '--epochs', '4', '--lr', '0.01', '--workers', '1', '--json', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { best: { dev_accuracy: number; epoch: number }; epochs: { dev_accuracy: number }[]; rows: { transfer: number; train: number; dev: number }; bundle_bytes: number };
  assert.equal(s.epochs.length, 4);
  assert.equal(s.rows.dev, 300);
  assert.equal(s.best.dev_accuracy, Math.max(...s.epochs.map((e) => e.dev_accuracy)));
  assert.ok(s.best.dev_accuracy > 0.9, `dev accuracy ${s.best.dev_accuracy}`);
  const dan = await loadDan(out);
  assert.deepEqual(dan.labels, TEACHER_LABELS);
  const devTexts = readFileSync(f.dev, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
  const pred = argmaxRows(dan.predict(devTexts), 3);
  const gold = argmaxRows(teacherLogits(devTexts), 3);
  const acc = pred.reduce((n, p, i) => n + (p === gold[i] ? 1 : 0), 0) / pred.length;
  assert.ok(Math.abs(acc - s.best.dev_accuracy) < 1e-9, 'the saved student is the best epoch');
  const log = JSON.parse(readFileSync(join(out, 'distill_log.json'), 'utf8')) as { status: string; epochs: unknown[] };
  assert.equal(log.status, 'completed');
  assert.equal(log.epochs.length, 4);

  // One model interface: `eval` and `predict` read the student as they read a fine-tuned transformer.
  const ev = slimtext(['eval', '--model', out, '--data', f.dev, '--json']);
  assert.equal(ev.status, 0, ev.stderr);
  const report = JSON.parse(ev.stdout) as { accuracy: number; n: number; throughput_per_s: number };
  assert.equal(report.n, 300);
  assert.ok(Math.abs(report.accuracy - s.best.dev_accuracy) < 1e-9, `eval accuracy ${report.accuracy} vs distill's ${s.best.dev_accuracy}`);
  assert.ok(report.throughput_per_s > 0);
  const pr = spawnSync(process.execPath, slimtextArgv(['predict', '--model', out, '--json']), { input: devTexts.slice(0, 3).join('\n') + '\n', encoding: 'utf8', cwd: repoRoot });
  assert.equal(pr.status, 0, pr.stderr);
  const lines = pr.stdout.trim().split('\n').map((l) => JSON.parse(l) as { label: string; score: number });
  assert.deepEqual(lines.map((l) => l.label), Array.from(pred.slice(0, 3), (p) => TEACHER_LABELS[p]));
});

test('distill: Hogwild workers and fine-tuning run from the command line', async () => {
  const f = await fx;
  const out = join(dir, 'student2');
  const r = slimtext(['distill', '--teacher-logits', f.logits, '--train', f.train, '--out', out, '--max-n', '2', '--dim', '16', '--hidden', '0', '--epochs', '2', '--finetune-epochs', '1', '--hard-weight', '0.3', '--workers', '2', '--table-dtype', 'f16', '--json', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { epochs: { phase: string }[]; rows: { dev: number; train: number } };
  assert.deepEqual(s.epochs.map((e) => e.phase), ['distill', 'distill', 'finetune']);
  assert.equal(s.rows.dev, 30, 'a seeded 10% of --train held out as dev');
  assert.ok(existsSync(join(out, 'slimtext.json')));
});

test('distill: a logits file over another corpus, and missing inputs, are clear errors', async () => {
  const f = await fx;
  const other = join(dir, 'other.txt');
  writeCorpus(other, 2500, 9);
  const r = slimtext(['distill', '--teacher-logits', f.logits, '--corpus', other, '--out', join(dir, 'x'), '--quiet']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /l\.bin \(field 'corpus'\): row 0 was labelled for corpus text #0, but that text in .*other\.txt is different/);
  const u = slimtext(['distill', '--out', join(dir, 'x')]);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /give --teacher-logits/);
  const t = slimtext(['distill', '--teacher-logits', join(dir, 'missing.bin'), '--out', join(dir, 'x')]);
  assert.equal(t.status, 1);
  assert.match(t.stderr, /missing\.bin: no such logits file/);
});

test('distill --cased: the vocabulary keeps case, so a label only case tells apart is learnt; a lowercased --vocab is refused', async () => {
  // "Bank" (a company) vs "bank" (a river bank) in the same contexts: lowercased, the texts are one.
  const fill = ['near the', 'we saw the', 'they left the', 'by the old', 'past the green'];
  const rows = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => {
      const cap = (i * 7 + seed) % 2 === 0;
      return `${fill[(i + seed) % fill.length]} ${cap ? 'Bank' : 'bank'} today\t${cap ? 'company' : 'river'}`;
    }).join('\n') + '\n';
  const train = join(dir, 'case-train.tsv'), dev = join(dir, 'case-dev.tsv');
  writeFileSync(train, rows(200, 0));
  writeFileSync(dev, rows(60, 1));
  const run = (out: string, extra: string[]) => slimtext(['distill', '--train', train, '--dev', dev, '--out', out, '--max-n', '1', '--dim', '8', '--hidden', '0', '--epochs', '6', '--lr', '0.05', '--workers', '1', '--json', '--quiet', ...extra]);
  const cased = run(join(dir, 'cased'), ['--cased']);
  assert.equal(cased.status, 0, cased.stderr);
  const uncased = run(join(dir, 'uncased'), []);
  assert.equal(uncased.status, 0, uncased.stderr);
  const acc = (r: typeof cased) => JSON.parse(r.stdout).best.dev_accuracy as number;
  assert.equal(acc(cased), 1);
  assert.ok(acc(uncased) <= 0.6, `uncased dev accuracy ${acc(uncased)}`);
  const d = await loadDan(join(dir, 'cased'));
  assert.equal(d.vocab.meta.lowercase, false);
  assert.ok(d.vocab.ngrams.includes('Bank') && d.vocab.ngrams.includes('bank'));
  assert.equal((await loadDan(join(dir, 'uncased'))).vocab.meta.lowercase, true);
  // A lowercased vocabulary (ngrams build's default) given with --cased: refused, naming the flag.
  const texts = join(dir, 'case-texts.txt'), lower = join(dir, 'lower.vocab');
  writeFileSync(texts, rows(20, 0).split('\n').map((l) => l.split('\t')[0]).join('\n'));
  assert.equal(slimtext(['ngrams', 'build', '--corpus', texts, '--max-n', '1', '--max-vocab', '100', '--out', lower, '--workers', '0']).status, 0);
  const refused = run(join(dir, 'x'), ['--cased', '--vocab', lower]);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /--cased asks for a cased vocabulary, but .*lower\.vocab is lowercased/);
});
