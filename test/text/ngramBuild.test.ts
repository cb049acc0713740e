import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildNgramVocab } from '../../src/text/ngramBuild.js';
import { textNgrams } from '../../src/text/ngrams.js';

/** A small corpus with a skewed word distribution (many ties at low counts), fixed by a seed. */
function corpus(lines: number): string[] {
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const words = Array.from({ length: 300 }, (_, i) => `w${i}`);
  const out: string[] = [];
  for (let l = 0; l < lines; l++) {
    const n = 3 + Math.floor(rand() * 10);
    const ws: string[] = [];
    for (let i = 0; i < n; i++) ws.push(words[Math.floor(rand() ** 3 * words.length)]!);
    out.push(ws.join(' ') + (rand() < 0.3 ? ', Éh!' : ''));
  }
  return out;
}

function exactCounts(lines: string[], maxN: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) for (const g of textNgrams(l, maxN)) m.set(g, (m.get(g) ?? 0) + 1);
  return m;
}

const dir = mkdtempSync(join(tmpdir(), 'slimtext-ngb-'));
const lines = corpus(3000);
const file = join(dir, 'corpus.txt');
writeFileSync(file, lines.join('\n') + '\n\n');
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('top-K by exact count, ties at the cut filled deterministically, order count desc then string', async () => {
  const K = 2000;
  const { vocab, stats } = await buildNgramVocab([file], { maxVocab: K, maxN: 3, workers: 0 });
  const truth = exactCounts(lines, 3);
  assert.equal(stats.lines, 3000);
  assert.equal(stats.distinct, truth.size);
  assert.equal(stats.pruned, false);
  assert.equal(vocab.size, K);
  const sorted = [...truth.values()].sort((a, b) => b - a);
  const cut = sorted[K - 1]!;
  // Everything above the cut is in, with its exact count; the rest are ties at the cut.
  for (const [g, c] of truth) if (c > cut) assert.equal(vocab.counts[vocab.id(g)], c, g);
  vocab.ngrams.forEach((g, i) => {
    assert.equal(vocab.counts[i], truth.get(g), g);
    assert.ok(vocab.counts[i]! >= cut);
    if (i > 0) {
      const [pc, c] = [vocab.counts[i - 1]!, vocab.counts[i]!];
      assert.ok(pc > c || (pc === c && vocab.ngrams[i - 1]! < g), `order at ${i}`);
    }
  });
  assert.equal(vocab.meta.lines, 3000);
  assert.equal(vocab.meta.approximate, false);
});

test('worker threads give the same vocabulary as counting in one thread', async () => {
  const a = await buildNgramVocab([file], { maxVocab: 1500, maxN: 4, workers: 0 });
  const b = await buildNgramVocab([file, file], { maxVocab: 1500, maxN: 4, workers: 2 });
  assert.equal(b.stats.lines, 6000);
  assert.deepEqual(b.vocab.ngrams, a.vocab.ngrams);
  assert.deepEqual(Array.from(b.vocab.counts), Array.from(a.vocab.counts, (c) => 2 * c));
});

test('minCount keeps only n-grams seen often enough', async () => {
  const { vocab } = await buildNgramVocab([file], { maxVocab: 1e6, maxN: 2, minCount: 5, workers: 0 });
  const truth = [...exactCounts(lines, 2)].filter(([, c]) => c >= 5);
  assert.equal(vocab.size, truth.length);
  for (const [g, c] of truth) assert.equal(vocab.counts[vocab.id(g)], c);
});

test('a full table prunes rare entries; frequent n-grams still come out with exact counts', async () => {
  const { vocab, stats } = await buildNgramVocab([file], { maxVocab: 100, maxN: 3, workers: 0, tableEntries: 3000 });
  assert.equal(stats.pruned, true);
  assert.ok(stats.maxUndercount > 0);
  assert.equal(vocab.meta.approximate, true);
  const truth = [...exactCounts(lines, 3)].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
  // The 50 most frequent are far above anything pruning could lose; they are exact and in order.
  assert.deepEqual(vocab.ngrams.slice(0, 50), truth.slice(0, 50).map(([g]) => g));
  assert.deepEqual(Array.from(vocab.counts.slice(0, 50)), truth.slice(0, 50).map(([, c]) => c));
});

test('bad options are refused', async () => {
  await assert.rejects(buildNgramVocab([file], { maxVocab: 0 }), /maxVocab/);
  await assert.rejects(buildNgramVocab([file], { maxVocab: 10, maxN: 5 }), /maxN/);
  await assert.rejects(buildNgramVocab([file], { maxVocab: 10_000_000, memoryMb: 16 }), /too small/);
  await assert.rejects(buildNgramVocab([join(dir, 'nope.txt')], { maxVocab: 10, workers: 0 }), /no such file/);
});
