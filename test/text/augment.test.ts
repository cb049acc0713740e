import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Augmenter } from '../../src/text/augment.js';

const texts = ['book a flight to boston tomorrow morning', 'what is the weather like in paris', 'play some jazz music please', 'hi'];

test('variants are seeded, distinct, differ from the text, and use only known words', () => {
  const a = new Augmenter(texts, { copies: 8, seed: 1 });
  const b = new Augmenter(texts, { copies: 8, seed: 1 });
  const known = new Set(texts.flatMap((t) => t.split(' ')));
  let total = 0;
  for (const t of texts) {
    const va = a.variants(t);
    assert.deepEqual(va, b.variants(t)); // same seed, same stream
    assert.equal(new Set(va).size, va.length);
    assert.ok(va.length <= 8);
    for (const v of va) {
      assert.notEqual(v, t);
      assert.ok(v.length > 0);
      for (const w of v.split(' ')) assert.ok(known.has(w), `${w} in ${v}`);
    }
    total += va.length;
  }
  assert.ok(total >= 15, `only ${total} variants`); // the long texts give several each
  const c = new Augmenter(texts, { copies: 8, seed: 2 });
  assert.notDeepEqual(texts.map((t) => c.variants(t)), texts.map((t) => new Augmenter(texts, { copies: 8, seed: 1 }).variants(t)));
});

test('with spans always on, variants are runs of 1..5 consecutive words', () => {
  const a = new Augmenter(texts, { copies: 20, pDrop: 0, pReplace: 0, pSpan: 1 });
  const t = texts[0]!;
  const vs = a.variants(t);
  assert.ok(vs.length > 5);
  for (const v of vs) {
    assert.ok(t.includes(v), v);
    assert.ok(v.split(' ').length <= 5);
  }
});

test('nothing to change gives nothing; bad options are errors', () => {
  const a = new Augmenter(texts, { copies: 5, pDrop: 0, pReplace: 0, pSpan: 0 });
  assert.deepEqual(a.variants(texts[0]!), []);
  assert.deepEqual(a.variants('   '), []);
  assert.throws(() => new Augmenter(texts, { copies: 0 }), /copies/);
  assert.throws(() => new Augmenter(texts, { copies: 2, pDrop: 1.5 }), /pDrop/);
});
