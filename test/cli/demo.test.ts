import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { slimtext } from './distillRun.js';
import { DEMO_QUICK, DEMO_STEPS, type DemoReport } from '../../src/demo/pipeline.js';
import { loadMultiTask } from '../../src/models/multiTask.js';
import { loadDan } from '../../src/models/dan.js';
import { inspectModel } from '../../src/models/inspect.js';

test('demo --quick runs end to end offline: teacher, dropped layers, labels, student, compressed student, multi-task model, side-by-side table, report.html', async () => {
  const out = mkdtempSync(join(tmpdir(), 'slimtext-demo-test-'));
  try {
    const t0 = Date.now();
    const r = slimtext(['demo', '--quick', '--json', '--out', out]);
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(r.status, 0, r.stderr);
    assert.ok(seconds < 60, `took ${seconds} s`);
    const rep = JSON.parse(r.stdout) as DemoReport;
    assert.deepEqual(rep.steps, DEMO_STEPS.map((s) => s.id));
    const n = DEMO_STEPS.length;
    // Every step says in one line what it shows, before its own result lines.
    const stepLines = r.stderr.split('\n').filter((l) => /^\[\d+\/\d+\] /.test(l));
    assert.deepEqual(stepLines.map((l) => l.slice(0, l.indexOf(']') + 1)), DEMO_STEPS.map((_, i) => `[${i + 1}/${n}]`));
    assert.ok(stepLines.every((l) => l.length > 30), 'each step line says what it shows');
    assert.equal(rep.out, out);
    assert.equal(rep.emails.train + rep.emails.dev + rep.emails.test, 400);
    assert.ok(rep.transfer_texts > rep.emails.train, 'the transfer set holds nlp-corpus sentences as well as the emails');
    assert.ok(rep.student.accuracy > 0.8, `student accuracy ${rep.student.accuracy}`);
    assert.ok(rep.teacher.accuracy > 0.5);
    assert.ok(rep.student.texts_per_s > rep.teacher.texts_per_s, 'the student is faster on one core');
    assert.ok(rep.teacher.size_bytes > 0 && rep.student.size_bytes > 0);
    assert.equal(rep.finetune.layers_dropped, 'bottom:1');
    assert.ok(rep.finetune.full_seconds > 0 && rep.finetune.dropped_seconds > 0);
    // The saving comes from unrounded seconds; the seconds printed are rounded to 0.1 s, so each is
    // off by up to 0.05 s and the ratio d/f by up to 0.05/(f-0.05) + 0.05(d+0.05)/(f-0.05)^2.
    const [f, d] = [rep.finetune.full_seconds, rep.finetune.dropped_seconds];
    const saving = 100 * (1 - d / f);
    const bound = 100 * (0.05 / (f - 0.05) + (0.05 * (d + 0.05)) / (f - 0.05) ** 2) + 0.1;
    assert.ok(f > 0.05 && Math.abs(rep.finetune.time_saving_pct - saving) <= bound, `${rep.finetune.time_saving_pct} vs ${saving} (bound ${bound})`);
    assert.equal(rep.report?.path, join(out, 'report.html'));
    assert.match(rep.report!.open, /report\.html/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const name of ['teacher (BERT)', 'teacher, bottom:1 dropped', 'student (n-gram DAN)', 'student, compressed', 'multi-task (spam + reply, one trunk)']) {
      assert.ok(html.includes(name), `the report shows ${name}`);
    }
    assert.equal((html.match(/<svg /g) ?? []).length, 5, 'pareto, sizes, curves, per-class F1, confusion');
    for (const f of ['emails-train.jsonl', 'teacher/slimtext.json', 'teacher-dropped/slimtext.json', 'teacher-logits.bin', 'student/slimtext.json', 'student/distill_log.json', 'demo-report.json',
      'student-compressed/slimtext.json', 'reply-train.jsonl', 'multitask/slimtext.json']) {
      assert.ok(existsSync(join(out, f)), `${f} written`);
    }

    // compress: the bytes shrink, measured from the folders themselves, and the accuracy holds.
    const c = rep.compressed!;
    const [before, after] = [await inspectModel(join(out, 'student')), await inspectModel(join(out, 'student-compressed'))];
    assert.equal(c.bytes_before, before.bytes_on_disk);
    assert.equal(c.bytes_after, after.bytes_on_disk);
    assert.ok(c.bytes_after < c.bytes_before / 5, `${c.bytes_before} -> ${c.bytes_after} bytes`);
    assert.ok(c.embedding_bytes_after < c.embedding_bytes_before / 10, 'the n-gram table itself shrinks most');
    assert.ok(c.ngrams_after <= DEMO_QUICK.compress.keep && c.ngrams_after < c.ngrams_before);
    assert.equal(c.accuracy_before, rep.student.accuracy, 'the uncompressed student scored on the same test emails');
    assert.ok(c.accuracy_after >= c.accuracy_before - 0.1, `compressed accuracy ${c.accuracy_after} vs ${c.accuracy_before}`);
    const compressed = await loadDan(join(out, 'student-compressed'));
    assert.equal(compressed.vocab.size, c.ngrams_after);
    assert.notEqual(compressed.model.embeddings.kind, 'dense');
    // bundle: the compressed student as one file, run by the runtime, equal to slimtext's labels.
    const b = rep.bundle!;
    assert.equal(statSync(b.path).size, b.bytes);
    assert.ok(b.bytes < c.bytes_after, `bundle ${b.bytes} bytes vs the compressed folder's ${c.bytes_after}`);
    assert.equal(b.agreement, 1, 'the runtime gives slimtext\'s label on every test email');

    // multitask: both tasks in one model; through it each task answers exactly as its branch alone.
    const mt = rep.multitask!;
    assert.deepEqual(Object.keys(mt.tasks), ['spam', 'reply']);
    const model = await loadMultiTask(join(out, 'multitask'));
    assert.deepEqual(model.taskNames, ['spam', 'reply']);
    assert.deepEqual(model.branch('reply').spec.labels.slice().sort(), ['new', 'reply']);
    assert.deepEqual(model.branch('spam').spec.labels.slice().sort(), ['ham', 'spam']);
    for (const [name, t] of Object.entries(mt.tasks)) {
      assert.equal(t.merged_accuracy, t.branch_accuracy, `${name}: merged ${t.merged_accuracy} vs branch ${t.branch_accuracy}`);
      assert.ok(t.max_abs_logit_difference <= 1e-4, `${name}: logits differ by ${t.max_abs_logit_difference}`);
      assert.ok(t.merged_accuracy > 0 && t.merged_accuracy <= 1 && t.teacher_branch_accuracy > 0);
      assert.equal(model.branch(name).spec.layers, 1, 'each task distilled into a 1-layer branch');
      assert.equal(model.branch(name).spec.start_layer, mt.trunk_layers);
    }
    assert.equal(mt.trunk_layers, 1, 'the 2-layer quick teacher keeps 1 frozen layer as the trunk');
    assert.deepEqual([mt.serving.layer_passes_merged, mt.serving.layer_passes_separate], [3, 4]);
    assert.ok(mt.serving.merged_ms > 0 && mt.serving.separate_ms > 0);
    assert.ok(mt.bytes.merged < mt.bytes.separate, 'one trunk stored once');
    assert.ok(r.stderr.includes('merged model, trunk 1 layer + 2 x 1: spam '), 'the multitask step says what it shows');
    assert.match(r.stderr, /KB on disk \(x[\d.]+ smaller; [\d,]+ -> [\d,]+ n-grams\), test accuracy [\d.]+ -> [\d.]+/);

  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('demo prints the side-by-side table without --json', () => {
  const out = mkdtempSync(join(tmpdir(), 'slimtext-demo-test-'));
  try {
    const r = slimtext(['demo', '--quick', '--quiet', '--out', out, '--emails', '200', '--transfer', '100']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /teacher \(BERT\)\s+student \(n-gram DAN\)/);
    for (const row of ['test accuracy', 'model size', '1-core texts/s', 'training time']) assert.match(r.stdout, new RegExp(row));
    assert.match(r.stdout, /bottom:1 dropped: [\d.]+ s, -?[\d.]+% less/);
    assert.match(r.stdout, /Compressed student \(prune,pq, joint\): [\d.]+ (MB|KB) -> [\d.]+ KB, test accuracy/);
    assert.match(r.stdout, /Multi-task model \(trunk 1 layer \+ 1 per task\): spam [\d.]+ \(branch alone [\d.]+\), reply [\d.]+ \(branch alone [\d.]+\); both tasks/);
    assert.match(r.stdout, /One-file bundle of the compressed student: .*student\.slim, [\d.]+ (MB|KB), loads in [\d.]+ ms/);
    assert.match(r.stdout, /Report of every model: .*report\.html; open it with: /);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
