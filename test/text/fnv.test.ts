import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FNV_OFFSET, fastTextHash, fnvByte, fnvString } from '../../src/text/fnv.js';

test('ASCII strings hash as standard 32-bit FNV-1a', () => {
  // Published FNV-1a test vectors.
  assert.equal(fastTextHash(''), 0x811c9dc5);
  assert.equal(fastTextHash('a'), 0xe40c292c);
  assert.equal(fastTextHash('foobar'), 0xbf9cf968);
});

test("non-ASCII bytes are XORed in sign-extended, as fastText's int8_t cast does", () => {
  // Expected values computed independently in Python over the UTF-8 bytes with
  // h ^= (b if b < 128 else b | 0xFFFFFF00); textbook FNV-1a gives 2821410889 for 'café'.
  assert.equal(fastTextHash('café'), 1970454601);
  assert.equal(fastTextHash('北京 大学'), 2707833533);
  assert.equal(fastTextHash('😀'), 604031496); // a 4-byte sequence (surrogate pair in JS)
});

test('hashing word by word equals hashing the joined n-gram', () => {
  let h = fnvString(FNV_OFFSET, 'new');
  h = fnvByte(h, 0x20);
  h = fnvString(h, 'york');
  assert.equal(h >>> 0, fastTextHash('new york'));
  assert.equal(fastTextHash('new york'), 46162376);
});
