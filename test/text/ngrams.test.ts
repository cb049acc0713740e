import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bertNormalize, bertWords } from '../../src/text/bertNormalizer.js';
import { textNgrams, wordNgrams } from '../../src/text/ngrams.js';

test('word n-grams: start by start, shortest first, up to maxN', () => {
  assert.deepEqual(wordNgrams(['a', 'b', 'c'], 2), ['a', 'a b', 'b', 'b c', 'c']);
  assert.deepEqual(wordNgrams(['a', 'b', 'c'], 4), ['a', 'a b', 'a b c', 'b', 'b c', 'c']);
  assert.deepEqual(wordNgrams([], 3), []);
  assert.throws(() => wordNgrams(['a'], 5), /maxN/);
});

test("n-grams use the tokenizer's basic step: lowercase, accents, punctuation alone", () => {
  assert.deepEqual(textNgrams('Héllo, World!', 2), ['hello', 'hello ,', ',', ', world', 'world', 'world !', '!']);
  assert.deepEqual(textNgrams('Héllo', 1, { lowercase: false }), ['Héllo']);
});

test('the normaliser: ASCII fast path and the slow path agree', () => {
  assert.equal(bertNormalize('Hello World'), 'hello world');
  assert.equal(bertNormalize('Hello\u00a0World'), 'hello world');
  assert.equal(bertNormalize('ÉCOLE'), 'ecole');
  assert.equal(bertNormalize('ÉCOLE', { lowercase: false }), 'ÉCOLE');
  assert.equal(bertNormalize('ÉCOLE', { lowercase: false, stripAccents: true }), 'ECOLE');
  assert.equal(bertNormalize('İ'), 'i'); // strip accents (NFD: I + U+0307, dot removed) then lowercase
  assert.deepEqual(bertWords("don't stop-believing 3.14 $5"), ['don', "'", 't', 'stop', '-', 'believing', '3', '.', '14', '$', '5']);
  // CJK Extension E starts at U+2B920 in HF tokenizers (U+2B820..2B91F is not spaced out).
  assert.deepEqual(bertWords('a\u{2B920}b'), ['a', '\u{2B920}', 'b']);
  assert.deepEqual(bertWords('a\u{2B820}b'), ['a\u{2B820}b']);
});
