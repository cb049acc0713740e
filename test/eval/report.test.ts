import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBenchReport, buildModelReport, reportHtml, writeReport, type ParetoRow, type SizeRow, type CurveRow, type ConfusionRow } from '../../src/eval/report/index.js';
import { paretoRows } from '../../src/eval/report/models.js';
import { adapterFor } from '../../src/eval/report/adapters.js';
import type { BundleManifest } from '../../src/io/bundle.js';
import { runCli } from '../cli/inProcess.js';
import { classData, classRows, dataFiles, tempDir, tinyCheckpoint, tsv } from '../train/fixtures.js';
import { finetune } from '../../src/train/finetune/finetune.js';
import { mergeBranches } from '../../src/train/multitask/merge.js';
import { reportModels } from './reportFixtures.js';

const fast = { measureSeconds: 0.05, latencyTexts: 10 };

function folderBytes(dir: string): number {
  return readdirSync(dir).filter((f) => !f.endsWith('_log.json') && statSync(join(dir, f)).isFile()).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

test('a model report scores every model on the same rows and draws each chart from real numbers', async () => {
  const m = await reportModels();
  const r = await buildModelReport({ models: [m.transformer, m.dan], data: m.evalFile, ...fast });
  const chart = (id: string) => r.charts.find((c) => c.id === id)!;
  assert.deepEqual(r.charts.map((c) => c.id), ['pareto', 'sizes', 'curves', 'f1', 'confusion']);

  const pts = chart('pareto').rows as ParetoRow[];
  assert.deepEqual(pts.map((p) => p.model), ['bert-tiny', 'dan']);
  assert.deepEqual(pts.map((p) => p.kind), ['transformer', 'dan']);
  for (const p of pts) {
    assert.ok(p.accuracy > 0.5 && p.accuracy <= 1, `${p.model} accuracy ${p.accuracy}`);
    assert.ok(p.latency_ms > 0, `${p.model} latency ${p.latency_ms}`);
  }
  assert.ok(pts.some((p) => p.pareto), 'at least one point is on the frontier');

  // Bytes by part add up to the folder's files (logs are not part of the model).
  const sizes = chart('sizes').rows as SizeRow[];
  for (const [name, dir] of [['bert-tiny', m.transformer], ['dan', m.dan]] as const) {
    const parts = sizes.filter((s) => s.model === name);
    assert.equal(parts.reduce((n, s) => n + s.bytes, 0), folderBytes(dir), `${name} parts sum to the folder`);
    assert.equal(pts.find((p) => p.model === name)!.size_bytes, folderBytes(dir));
    assert.ok(parts.find((s) => s.part === 'embeddings')!.bytes > 0);
    assert.ok(parts.find((s) => s.part === 'vocabulary')!.bytes > 0);
  }
  assert.ok(sizes.find((s) => s.model === 'bert-tiny' && s.part === 'layers')!.bytes > 0);
  assert.equal(sizes.find((s) => s.model === 'dan' && s.part === 'layers')!.bytes, 0, 'a DAN has no encoder layers');

  // Curves: 3 epochs of loss and dev accuracy each, read from the training logs.
  const curves = chart('curves').rows as CurveRow[];
  for (const name of ['bert-tiny', 'dan']) {
    assert.deepEqual(curves.filter((c) => c.model === name && c.series === 'loss').map((c) => c.epoch), [1, 2, 3]);
    assert.equal(curves.filter((c) => c.model === name && c.series === 'dev accuracy').length, 3);
  }
  const log = JSON.parse(readFileSync(join(m.transformer, 'train_log.json'), 'utf8')) as { epochs: { train_loss: number }[] };
  assert.deepEqual(curves.filter((c) => c.model === 'bert-tiny' && c.series === 'loss').map((c) => c.value), log.epochs.map((e) => e.train_loss));

  // Confusion matrix of the best model: counts add up to the evaluation rows.
  const cm = chart('confusion').rows as ConfusionRow[];
  assert.equal(cm.reduce((n, c) => n + c.count, 0), 40);
  const best = [...pts].sort((a, b) => b.accuracy - a.accuracy || a.latency_ms - b.latency_ms)[0]!;
  assert.match(chart('confusion').title, new RegExp(best.model));
  const right = cm.filter((c) => c.gold === c.predicted).reduce((n, c) => n + c.count, 0);
  assert.equal(right / 40, best.accuracy);

  const table = r.tables.find((t) => t.id === 'models')!;
  assert.equal(table.rows.length, 2);
  assert.ok(r.tables.find((t) => t.id === 'figures')!.rows.every((row) => typeof row[2] === 'string' && row[2].length > 0), 'every chart names what made it');
});

test('the HTML is one self-contained file: inline SVG charts with marks, no scripts, no URLs it could load', async () => {
  const m = await reportModels();
  const r = await buildModelReport({ models: [m.transformer, m.dan], data: m.evalFile, ...fast });
  const html = await reportHtml(r);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.equal((html.match(/<section class="chart"/g) ?? []).length, r.charts.length);
  assert.equal((html.match(/<svg /g) ?? []).length, r.charts.length);
  assert.ok(!/<script/i.test(html), 'no scripts');
  const urls = [...html.matchAll(/(?:src|href)\s*=\s*["']|url\((?!['"]?#)|@import|https?:\/\/[^"'\s<]*/g)].map((x) => x[0]).filter((u) => !/^http:\/\/www\.w3\.org\//.test(u));
  assert.deepEqual(urls, [], 'nothing to load');
  for (const section of html.split('<section class="chart"').slice(1)) assert.match(section, /role-mark/, 'every chart has a data-mark group');
  assert.ok(html.length < 400_000, `small: ${html.length} bytes`);
});

test('a model without training logs still gets its point on the Pareto chart', async () => {
  const m = await reportModels();
  const bare = join(tempDir('slimtext-report-bare-'), 'no-logs');
  cpSync(m.dan, bare, { recursive: true });
  rmSync(join(bare, 'distill_log.json'));
  const r = await buildModelReport({ models: [bare, m.transformer], data: m.evalFile, ...fast });
  assert.deepEqual((r.charts[0]!.rows as ParetoRow[]).map((p) => p.model), ['no-logs', 'bert-tiny']);
  const curves = r.charts.find((c) => c.id === 'curves')!.rows as CurveRow[];
  assert.ok(curves.every((c) => c.model === 'bert-tiny'));
  assert.ok(r.notes.some((n) => /no-logs: no training log/.test(n)));
  // Alone, it has no curves chart at all, and the rest still draws.
  const alone = await buildModelReport({ models: [bare], data: m.evalFile, ...fast });
  assert.deepEqual(alone.charts.map((c) => c.id), ['pareto', 'sizes', 'f1', 'confusion']);
  assert.ok((await reportHtml(alone)).includes('<svg'));
});

test('bad input gets a clear error: a folder that is not a model, labels a model does not know', async () => {
  const m = await reportModels();
  const empty = tempDir('slimtext-report-empty-');
  await assert.rejects(buildModelReport({ models: [m.dan, empty], data: m.evalFile, ...fast }), (e: Error) => e.message.includes(empty) && /not a slimtext model folder/.test(e.message));
  await assert.rejects(buildModelReport({ models: [join(empty, 'missing')], data: m.evalFile, ...fast }), /missing: no such model folder/);
  const other = join(dataFiles({ 'test.tsv': tsv(['text', 'label'], [['the cat', 'animal'], ['hello there', 'greeting'], ['a red fish', 'fish']]) }), 'test.tsv');
  await assert.rejects(buildModelReport({ models: [m.transformer], data: other, ...fast }), (e: Error) => {
    assert.match(e.message, new RegExp(`${other.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4 \\(field 'label'\\): label 'fish' is not one of the 2 labels of the model in ${m.transformer}`));
    assert.match(e.message, /1 label of this evaluation set is unknown to it \(fish\)/);
    return true;
  });
});

test('a model that is not a single-text classifier, or of a kind no adapter reads, is refused by name', () => {
  const manifest = (task: string, kind: string) => ({ task, architecture: { kind } }) as unknown as BundleManifest;
  assert.throws(() => adapterFor('m', manifest('reply', 'bi-encoder')), /m\/slimtext\.json \(field 'task'\): a report compares single-text classifiers; this model's task is 'reply'/);
  assert.throws(() => adapterFor('m', manifest('pair', 'sequence-classifier')), /task is 'pair'/);
  assert.throws(() => adapterFor('m', manifest('classify', 'quantum')), /'quantum' is not a model kind a report can score \(known: sequence-classifier, dan, multi-task\)/);
  assert.equal(typeof adapterFor('m', manifest('multitask', 'multi-task')), 'function');
  assert.throws(() => adapterFor('m', manifest('multitask', 'sequence-classifier')), /task is 'multitask'/);
  assert.equal(typeof adapterFor('m', manifest('classify', 'dan')), 'function');
});

test('slimtext report: writes the HTML, refuses to overwrite, --json gives the same data', async () => {
  const m = await reportModels();
  const dir = tempDir('slimtext-report-cli-');
  const out = join(dir, 'r.html');
  const args = ['report', m.transformer, m.dan, '--data', m.evalFile, '--measure-seconds', '0.05', '--out', out, '--quiet'];
  let r = await runCli(args);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /wrote .*r\.html; open it with: /);
  assert.match(readFileSync(out, 'utf8'), /<svg /);
  assert.match(readFileSync(out, 'utf8'), /slimtext report .*bert-tiny .*--data /, 'the report names the command that made it');
  r = await runCli(args);
  assert.equal(r.code, 2);
  assert.match(r.err, /r\.html: already exists; pass --overwrite/);
  assert.equal((await runCli([...args, '--overwrite'])).code, 0);
  r = await runCli(['report', m.dan, '--data', m.evalFile, '--measure-seconds', '0.05', '--json', '--quiet']);
  assert.equal(r.code, 0, r.err);
  const data = JSON.parse(r.out) as { format: string; charts: { id: string; rows: unknown[] }[] };
  assert.equal(data.format, 'slimtext-report');
  assert.equal(data.charts.find((c) => c.id === 'pareto')!.rows.length, 1);
  r = await runCli(['report', m.dan]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--data is required/);
});

const FINETUNE_BENCH = {
  date: '2026-11-21T10:00:00.000Z', model: 'bert', backend: 'native', threads: 1, cpus: 2, command: 'npx tsx bench/finetune.ts --max-train 8000',
  sets: {
    sst2: {
      task: 'classify',
      runs: {
        full: { train_seconds: 47.1, test: { accuracy: 0.741 }, trainable_parameters: 4766210 },
        drop: { train_seconds: 30.9, test: { accuracy: 0.742 }, trainable_parameters: 4369666 },
        freeze: { train_seconds: 25.4, test: { accuracy: 0.597 }, trainable_parameters: 396802 },
      },
      vs_full: { drop: { time_saving_pct: 34, accuracy_delta_points: 0.1 }, freeze: { time_saving_pct: 46, accuracy_delta_points: -14.3 } },
    },
  },
};

const DISTILL_BENCH = {
  date: '2026-11-21T10:00:00.000Z', machine: { cpus: 2, cpu: 'AMD EPYC', backend: 'native' },
  sets: [{
    set: 'trec', rows: { train: 4907, test: 500 },
    teacher: { accuracy: 0.82, train_seconds: 14.7, texts_per_s: 1806, size_bytes: 19_000_000, parameters: 4_700_000 },
    student: { accuracy: 0.864, texts_per_s: 158418, single_texts_per_s: 73856, size_bytes: 615_000_000, parameters: 150_000_000, train_seconds: 4.3, label_seconds: 14.6 },
    speedup: 87.7, fasttext: { accuracy: 0.896, train_seconds: 3.9 },
  }],
};

test('report --bench draws the fine-tuning and distillation benches from their JSON', async () => {
  const dir = tempDir('slimtext-report-bench-');
  const ft = join(dir, 'finetune.json');
  const di = join(dir, 'distill.json');
  writeFileSync(ft, JSON.stringify(FINETUNE_BENCH));
  writeFileSync(di, JSON.stringify(DISTILL_BENCH));
  const f = buildBenchReport(ft);
  assert.deepEqual(f.charts.map((c) => c.id), ['tradeoff', 'savings', 'times']);
  const trade = f.charts[0]!.rows as ParetoRow[];
  assert.deepEqual(trade.map((p) => [p.model, p.pareto]), [['full', false], ['drop', true], ['freeze', true]]);
  assert.ok(f.command.startsWith('npx tsx bench/finetune.ts --max-train 8000'));
  const d = buildBenchReport(di);
  const pts = d.charts[0]!.rows as ParetoRow[];
  assert.deepEqual(pts.map((p) => p.model), ['teacher', 'student']);
  assert.ok(Math.abs(pts[0]!.latency_ms - 1000 / 1806) < 1e-4);
  assert.match(d.command, /not recorded/);
  for (const rep of [f, d]) {
    const html = await reportHtml(rep);
    assert.equal((html.match(/<svg /g) ?? []).length, rep.charts.length);
  }
  writeFileSync(join(dir, 'other.json'), JSON.stringify({ sets: [{ name: 'x' }] }));
  assert.throws(() => buildBenchReport(join(dir, 'other.json')), /other\.json \(field 'sets'\): not the output of bench\/finetune\.ts/);
  assert.throws(() => buildBenchReport(join(dir, 'nope.json')), /nope\.json: no such file/);
  const out = join(dir, 'b.html');
  const r = await runCli(['report', '--bench', ft, '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.ok(existsSync(out));
  await assert.rejects(writeReport(out, f), /already exists/);
});

test('the Pareto frontier: a point is on it unless another is at least as good on both and better on one', () => {
  const rows = paretoRows([
    { model: 'a', kind: 'k', accuracy: 0.9, latency_ms: 10, size_bytes: 1 },
    { model: 'b', kind: 'k', accuracy: 0.8, latency_ms: 1, size_bytes: 1 },
    { model: 'c', kind: 'k', accuracy: 0.8, latency_ms: 5, size_bytes: 1 },
    { model: 'd', kind: 'k', accuracy: 0.9, latency_ms: 10, size_bytes: 2 },
  ]);
  assert.deepEqual(rows.map((r) => r.pareto), [true, true, false, true]);
});

test('a multi-task model is scored on the task whose labels fit the evaluation set; its size counts every task', async () => {
  const m = await reportModels();
  const ckpt = await tinyCheckpoint();
  const branch = async (data: string, name: string) => {
    const out = join(tempDir('slimtext-report-branch-'), name);
    await finetune({ model: ckpt, train: data, out, recipe: { task: 'classify', epochs: 3, lr: 1e-2, batchSize: 16, maxLength: 16, freezeEmbeddings: true, freezeLayers: 1, pooling: 'mean', usePooler: false } });
    return out;
  };
  const lengthRows = (n: number, seed: number) => classRows(n, seed).map(([t]) => [t, t.split(' ').length <= 2 ? 'short' : 'long'] as [string, string]);
  const lengths = dataFiles({ 'train.tsv': tsv(['text', 'label'], lengthRows(96, 3)), 'dev.tsv': tsv(['text', 'label'], lengthRows(32, 4)) });
  const animals = await branch(classData(96, 32), 'animals');
  const length = await branch(lengths, 'length');
  const merged = join(tempDir('slimtext-report-mt-'), 'mt');
  await mergeBranches(merged, [{ dir: length, name: 'length' }, { dir: animals, name: 'animals' }]);
  const r = await buildModelReport({ models: [merged, animals], names: ['merged', 'animals alone'], data: m.evalFile, ...fast });
  const pts = r.charts.find((c) => c.id === 'pareto')!.rows as ParetoRow[];
  assert.deepEqual(pts.map((p) => p.kind), ['multi-task', 'transformer']);
  // The merged model's animals task is the standalone branch: the same accuracy on the same rows.
  assert.equal(pts[0]!.accuracy, pts[1]!.accuracy);
  const sizes = r.charts.find((c) => c.id === 'sizes')!.rows as SizeRow[];
  assert.equal(sizes.filter((x) => x.model === 'merged').reduce((n, x) => n + x.bytes, 0), folderBytes(merged), 'the trunk and both branch files');
  assert.ok(sizes.find((x) => x.model === 'merged' && x.part === 'layers')!.bytes > sizes.find((x) => x.model === 'animals alone' && x.part === 'layers')!.bytes, 'two branches\' layers');
  // An evaluation set no task has every label of: refused, naming the tasks.
  const other = join(dataFiles({ 'test.tsv': tsv(['text', 'label'], [['the cat', 'animal'], ['hello', 'short']]) }), 'test.tsv');
  await assert.rejects(buildModelReport({ models: [merged], data: other, ...fast }), (e: Error) => e.message.includes(merged) && /no task of this multi-task model has every label/.test(e.message) && /length \(/.test(e.message));
});
