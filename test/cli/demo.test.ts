import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { slimtext } from './distillRun.js';
import type { DemoReport } from '../../src/demo/pipeline.js';

test('demo --quick runs end to end offline: teacher, labels, student, side-by-side report', () => {
  const out = mkdtempSync(join(tmpdir(), 'slimtext-demo-test-'));
  try {
    const t0 = Date.now();
    const r = slimtext(['demo', '--quick', '--json', '--out', out]);
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(r.status, 0, r.stderr);
    assert.ok(seconds < 60, `took ${seconds} s`);
    for (const stage of ['[1/5]', '[2/5]', '[3/5]', '[4/5]', '[5/5]']) assert.ok(r.stderr.includes(stage), `stage ${stage} reported on stderr`);
    const rep = JSON.parse(r.stdout) as DemoReport;
    assert.equal(rep.out, out);
    assert.equal(rep.emails.train + rep.emails.dev + rep.emails.test, 400);
    assert.ok(rep.transfer_texts > rep.emails.train, 'the transfer set holds nlp-corpus sentences as well as the emails');
    assert.ok(rep.student.accuracy > 0.8, `student accuracy ${rep.student.accuracy}`);
    assert.ok(rep.teacher.accuracy > 0.5);
    assert.ok(rep.student.texts_per_s > rep.teacher.texts_per_s, 'the student is faster on one core');
    assert.ok(rep.teacher.size_bytes > 0 && rep.student.size_bytes > 0);
    for (const f of ['emails-train.jsonl', 'teacher/slimtext.json', 'teacher-logits.bin', 'student/slimtext.json', 'student/distill_log.json', 'demo-report.json']) {
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
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
