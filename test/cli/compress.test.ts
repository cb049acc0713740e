/**
 * `slimtext compress` end to end on a small DAN: prune + PQ post-hoc and task-aware (joint), the
 * result loads in eval with bytes in the JSON, `inspect` reports the recipe, and bad input gets
 * clear errors (existing --out, joint on frozen int8 codes, a transformer-only case is covered by
 * the kind check in compressModel).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from './inProcess.js';
import { withTempDir } from '../io/tempDir.js';
import { colourRows as rows } from '../train/fixtures.js';

test('compress: prune,pq post-hoc and joint; eval --json reports bytes; inspect shows the recipe', withTempDir(async (dir) => {
    const train = join(dir, 'train.tsv'), dev = join(dir, 'dev.tsv');
    await writeFile(train, rows(1500, 1));
    await writeFile(dev, rows(300, 2));
    const dan = join(dir, 'dan');
    const d = await runCli(['distill', '--train', train, '--dev', dev, '--out', dan, '--dim', '32', '--hidden', '16', '--max-n', '2', '--epochs', '3', '--workers', '1', '--quiet', '--json']);
    assert.equal(d.code, 0, d.err);
    for (const mode of ['posthoc', 'joint']) {
      const out = join(dir, `pq-${mode}`);
      const r = await runCli(['compress', '--model', dan, '--method', 'prune,pq', '--prune-keep', '500', '--pq-dsub', '4', '--pq-bits', '6', '--kmeans-iters', '5', '--mode', mode, '--train', train, '--dev', dev, '--epochs', '2', '--out', out, '--json']);
      assert.equal(r.code, 0, r.err);
      const rep = JSON.parse(r.out);
      assert.ok(rep.after.embedding_bytes < rep.before.embedding_bytes / 10, JSON.stringify(rep));
      assert.ok(rep.after.dev_accuracy > 0.7, `dev accuracy ${rep.after.dev_accuracy}`);
      const e = await runCli(['eval', '--model', out, '--data', dev, '--json']);
      assert.equal(e.code, 0, e.err);
      const ev = JSON.parse(e.out);
      assert.equal(ev.embedding_bytes, rep.after.embedding_bytes);
      assert.ok(Math.abs(ev.accuracy - rep.after.dev_accuracy) < 1e-9);
      const i = await runCli(['inspect', '--model', out, '--json']);
      const info = JSON.parse(i.out);
      assert.equal(info.kind, 'dan');
      assert.equal(info.table.kind, 'pq');
      assert.equal(info.compression.mode, mode);
      assert.equal(info.compression.prune.kept, 500);
    }
    // --qnorm: norms quantised apart, pq on unit rows; trained jointly, evaluated and inspected like any table.
    const qn = join(dir, 'pq-qnorm');
    const q = await runCli(['compress', '--model', dan, '--method', 'prune,pq', '--qnorm', '--prune-keep', '500', '--pq-dsub', '4', '--pq-bits', '6', '--kmeans-iters', '5', '--train', train, '--dev', dev, '--epochs', '2', '--out', qn, '--json']);
    assert.equal(q.code, 0, q.err);
    const qrep = JSON.parse(q.out);
    assert.equal(qrep.mode, 'joint');
    assert.ok(qrep.after.dev_accuracy > 0.7, `qnorm dev accuracy ${qrep.after.dev_accuracy}`);
    const qe = await runCli(['eval', '--model', qn, '--data', dev, '--json']);
    assert.ok(Math.abs(JSON.parse(qe.out).accuracy - qrep.after.dev_accuracy) < 1e-9, 'the saved norms are the ones trained with');
    const qi = JSON.parse((await runCli(['inspect', '--model', qn, '--json'])).out);
    assert.equal(qi.table.qnorm, true);
    const badQ = await runCli(['compress', '--model', dan, '--method', 'int8', '--qnorm', '--out', join(dir, 'q8')]);
    assert.notEqual(badQ.code, 0);
    assert.match(badQ.err, /--qnorm.*--method pq.*int8/);
    const again = await runCli(['compress', '--model', dan, '--method', 'int8', '--out', join(dir, 'pq-joint')]);
    assert.notEqual(again.code, 0);
    assert.match(again.err, /already exists.*--overwrite/);
    const frozen = await runCli(['compress', '--model', dan, '--method', 'int8', '--mode', 'joint', '--train', train, '--out', join(dir, 'i8')]);
    assert.notEqual(frozen.code, 0);
    assert.match(frozen.err, /--mode joint.*int8 table has no trainable values/);
    const twice = await runCli(['compress', '--model', join(dir, 'pq-posthoc'), '--method', 'int8', '--out', join(dir, 'i8b')]);
    assert.match(twice.err, /already pq/);
    const noTrain = await runCli(['compress', '--model', dan, '--method', 'int8', '--mode', 'retrain', '--out', join(dir, 'i8c')]);
    assert.match(noTrain.err, /--mode.*--train/);
}));
