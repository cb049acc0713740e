import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { InputError } from '../../src/errors.js';
import { readLines, readTextChunks } from '../../src/data/lines.js';
import { tmpFiles } from './fixtures.js';

async function lines(file: string, opts = {}) {
  const out = [];
  for await (const l of readLines(file, opts)) out.push(l);
  return out;
}

test('lines: CRLF and LF endings, BOM dropped, last line without newline, no phantom empty line', async () => {
  const dir = tmpFiles({ 'a.txt': '\uFEFFone\r\ntwo\n\nfour', 'b.txt': 'x\ny\n' });
  assert.deepEqual(
    (await lines(join(dir, 'a.txt'))).map((l) => [l.line, l.text]),
    [[1, 'one'], [2, 'two'], [3, ''], [4, 'four']],
  );
  assert.deepEqual((await lines(join(dir, 'b.txt'))).map((l) => l.text), ['x', 'y']);
});

test('lines: invalid UTF-8 throws an InputError naming file, line and byte', async () => {
  const dir = tmpFiles({ 'bad.txt': Buffer.concat([Buffer.from('ok\nalso ok é\nsister'), Buffer.from([0xf0]), Buffer.from('city\nafter\n')]) });
  const file = join(dir, 'bad.txt');
  await assert.rejects(lines(file), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.file, file);
    assert.equal(e.line, 3);
    assert.match(e.message, /invalid UTF-8 \(byte 0xF0 at byte 7\)/);
    return true;
  });
});

test('lines: markInvalid keeps the line (U+FFFD) and marks it; latin1 decodes the same bytes', async () => {
  const dir = tmpFiles({ 'bad.txt': Buffer.concat([Buffer.from('a\nsister'), Buffer.from([0xf0]), Buffer.from('city\nb')]) });
  const marked = await lines(join(dir, 'bad.txt'), { markInvalid: true });
  assert.equal(marked.length, 3);
  assert.equal(marked[1]!.invalid?.line, 2);
  assert.ok(marked[1]!.text.includes('\uFFFD'));
  assert.equal(marked[2]!.invalid, undefined);
  const latin = await lines(join(dir, 'bad.txt'), { encoding: 'latin1' });
  assert.equal(latin[1]!.text, 'sister\u00F0city');
});

test('lines: line numbers stay right across 1 MiB read chunks, and a bad line far in is found', async () => {
  const n = 120_000;
  const body = Array.from({ length: n }, (_, i) => `line number ${i + 1}`).join('\n');
  const dir = tmpFiles({ 'big.txt': body + '\n', 'bigbad.txt': Buffer.concat([Buffer.from(body + '\n'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]) });
  let count = 0;
  for await (const l of readLines(join(dir, 'big.txt'))) {
    count++;
    if (l.text !== `line number ${l.line}`) assert.fail(`line ${l.line} read as '${l.text}'`);
  }
  assert.equal(count, n);
  await assert.rejects(lines(join(dir, 'bigbad.txt')), (e: unknown) => e instanceof InputError && e.line === n + 1);
});

test('lines: a missing file is an InputError naming it', async () => {
  await assert.rejects(lines('/nonexistent/x.txt'), (e: unknown) => e instanceof InputError && /x\.txt: no such file/.test(e.message));
});

test('text chunks: whole lines, CRLF read as LF, first line numbers add up', async () => {
  const dir = tmpFiles({ 'c.txt': 'a\r\nb\r\nc' });
  const chunks = [];
  for await (const c of readTextChunks(join(dir, 'c.txt'))) chunks.push(c);
  assert.deepEqual(chunks, [{ text: 'a\nb', firstLine: 1 }, { text: 'c', firstLine: 3 }]);
});
