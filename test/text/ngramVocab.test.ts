import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/errors.js';
import { NgramVocab, type NgramVocabMeta } from '../../src/text/ngramVocab.js';

const meta: NgramVocabMeta = { maxN: 3, lowercase: true, minCount: 1, lines: 10, words: 40, approximate: false, maxUndercount: 0, sources: ['x.txt'] };

test('ids by string and by word-id tuple', () => {
  const v = new NgramVocab(['the', 'new', 'york', 'new york', 'new york city', 'café'], [9, 5, 4, 4, 2, 1], meta);
  assert.equal(v.size, 6);
  assert.equal(v.id('new york'), 3);
  assert.equal(v.id('new york city'), 4);
  assert.equal(v.id('york new'), -1);
  assert.equal(v.id('city'), -1); // a word of the vocabulary, but not an n-gram of it
  assert.equal(v.id('café'), 5);
  const w = [v.wordId('new'), v.wordId('york'), v.wordId('city')];
  assert.equal(v.lookup(w, 0, 2), 3);
  assert.equal(v.lookup(w, 0, 3), 4);
  assert.equal(v.lookup(w, 1, 1), 2);
  assert.equal(v.lookup([w[0]!, -1], 0, 2), -1); // an unknown word never matches a shorter n-gram
  assert.throws(() => new NgramVocab(['a', 'a'], [1, 1], meta), /twice/);
  assert.throws(() => new NgramVocab(['a b c d'], [1], meta), /bad n-gram/);
});

test('save/load round trip through an atomic write', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimtext-ngv-'));
  try {
    const v = new NgramVocab(['the', 'of the', '北京', 'new york city'], [100, 50, 3, 2], meta);
    const path = join(dir, 'v.ngrams');
    await v.save(path);
    assert.deepEqual(readdirSync(dir), ['v.ngrams']); // no temp file left behind
    const u = NgramVocab.load(path);
    assert.deepEqual(u.ngrams, v.ngrams);
    assert.deepEqual(Array.from(u.counts), [100, 50, 3, 2]);
    assert.deepEqual(u.meta, meta);
    assert.equal(u.id('北京'), 2);
    const empty = new NgramVocab([], [], meta);
    await empty.save(path);
    assert.equal(NgramVocab.load(path).size, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loading something else is an InputError naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimtext-ngv-'));
  try {
    const path = join(dir, 'bad.bin');
    writeFileSync(path, 'hello world, not a vocabulary');
    assert.throws(() => NgramVocab.load(path), (e: unknown) => e instanceof InputError && e.message.includes(path) && /magic/.test(e.message));
    assert.throws(() => NgramVocab.load(join(dir, 'missing')), InputError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
