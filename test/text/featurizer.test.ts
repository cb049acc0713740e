import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NgramFeaturizer, maxIds } from '../../src/text/featurizer.js';
import { fastTextHash } from '../../src/text/fnv.js';
import { NgramVocab } from '../../src/text/ngramVocab.js';
import { textNgrams } from '../../src/text/ngrams.js';
import { Rng } from '../../src/engine/random.js';

const vocab = new NgramVocab(['new', 'york', 'new york', 'is', 'big', 'is big', 'cafe'], [5, 5, 4, 3, 3, 2, 1], {
  maxN: 2, lowercase: true, minCount: 1, lines: 3, words: 9, approximate: false, maxUndercount: 0, sources: [],
});

test('vocabulary n-grams map to their ids, others are dropped without buckets', () => {
  const f = new NgramFeaturizer(vocab);
  assert.equal(f.dim, 7);
  // new, new york, york, york is (absent), is, is big, big, "big ." (absent), "." (absent)
  assert.deepEqual(Array.from(f.featurize('New York is BIG.')), [0, 2, 1, 3, 5, 4]);
  assert.deepEqual(Array.from(f.featurize('Café')), [6]);
  assert.deepEqual(Array.from(f.featurize('')), []);
});

test("with buckets, every other n-gram goes to V + fastText's hash of its string % buckets", () => {
  const B = 1000;
  const f = new NgramFeaturizer(vocab, { buckets: B });
  assert.equal(f.dim, 7 + B);
  const text = 'New York is big in Zürich';
  const expected = textNgrams(text, 2).map((g) => (vocab.id(g) >= 0 ? vocab.id(g) : 7 + (fastTextHash(g) % B)));
  assert.deepEqual(Array.from(f.featurize(text)), expected);
  assert.equal(expected.length, maxIds(6, 2));
});

test('featurizeInto fills a caller buffer and stops when it is full', () => {
  const f = new NgramFeaturizer(vocab, { buckets: 10 });
  const out = new Int32Array(3);
  assert.equal(f.featurizeInto('new york is big', out), 3);
  assert.deepEqual(Array.from(out), [0, 2, 1]);
  const big = new Int32Array(64);
  assert.equal(f.featurizeInto('new york is big', big), maxIds(4, 2));
  assert.throws(() => new NgramFeaturizer(vocab, { buckets: -1 }), /buckets/);
});

test('the prefix-pruned lookup finds exactly what trying every n-gram finds', () => {
  // Not prefix-closed on purpose: "a b c" and "x y z w" are in, "a b", "x y" and "x y z" are not,
  // as happens at the cut of a frequency-ranked vocabulary; "c d" is in but "c" is not.
  const words = ['a', 'b', 'c', 'd', 'x', 'y', 'z', 'w', 'q'];
  const ngrams = ['a', 'b', 'a b c', 'x y z w', 'c d', 'z', 'w', 'b c', 'y z w', 'q'];
  const v = new NgramVocab(ngrams, ngrams.map(() => 1), { maxN: 4, lowercase: true, minCount: 1, lines: 1, words: 1, approximate: false, maxUndercount: 0, sources: [] });
  const rng = Rng.derive(3, 'featurizer-prefix');
  for (const buckets of [0, 50]) {
    const f = new NgramFeaturizer(v, { buckets });
    for (let trial = 0; trial < 300; trial++) {
      const text = Array.from({ length: 1 + rng.int(9) }, () => words[rng.int(words.length)]!).join(' ');
      const expected = textNgrams(text, 4)
        .map((g) => (v.id(g) >= 0 ? v.id(g) : buckets > 0 ? ngrams.length + (fastTextHash(g) % buckets) : -1))
        .filter((id) => id >= 0);
      assert.deepEqual(Array.from(f.featurize(text)), expected, text);
    }
  }
  assert.equal(v.id('x y z'), -1); // a prefix with a slot of its own is still not an n-gram of the vocabulary
  assert.equal(v.id('a b'), -1);
});
