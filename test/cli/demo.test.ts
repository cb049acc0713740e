import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { slimtext } from './distillRun.js';
import { DEMO_STEPS, type DemoReport } from '../../src/demo/pipeline.js';

test('demo --quick runs end to end offline: teacher, dropped layers, labels, student, side-by-side table, report.html', () => {
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
    // The saving comes from unrounded seconds; the seconds printed are rounded to 0.1 s.
    const saving = 100 * (1 - rep.finetune.dropped_seconds / rep.finetune.full_seconds);
    assert.ok(Math.abs(rep.finetune.time_saving_pct - saving) < (100 * 0.1) / rep.finetune.full_seconds + 0.1, `${rep.finetune.time_saving_pct} vs ${saving}`);
    assert.equal(rep.report?.path, join(out, 'report.html'));
    assert.match(rep.report!.open, /report\.html/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const name of ['teacher (BERT)', 'teacher, bottom:1 dropped', 'student (n-gram DAN)']) assert.ok(html.includes(name), `the report shows ${name}`);
    assert.equal((html.match(/<svg /g) ?? []).length, 5, 'pareto, sizes, curves, per-class F1, confusion');
    for (const f of ['emails-train.jsonl', 'teacher/slimtext.json', 'teacher-dropped/slimtext.json', 'teacher-logits.bin', 'student/slimtext.json', 'student/distill_log.json', 'demo-report.json']) {
      assert.ok(existsSync(join(out, f)), `${f} written`);
    }
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
    assert.match(r.stdout, /Report of every model: .*report\.html; open it with: /);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
