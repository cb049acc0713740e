import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { collect } from '../../src/data/dataset.js';
import { type OpenOptions, openDataset } from '../../src/data/open.js';
import { rejectsInput, tmpFiles } from './fixtures.js';

async function read(file: string, opts: OpenOptions = {}, skipBad = false) {
  const ds = await openDataset(file, opts);
  const stream = ds.read(ds.splits[0]!, { skipBad });
  const rows = await collect(stream);
  return { rows, skipped: stream.skipped };
}

function fails(file: string, line: number | undefined, field: string | undefined, pattern: RegExp, opts: OpenOptions = {}) {
  return rejectsInput(read(file, opts), file, line, field, pattern);
}

test('csv: RFC 4180 quoting: quoted newlines, doubled quotes, quoted delimiters, CRLF, line numbers', async () => {
  const dir = tmpFiles({ 'train.csv': 'text,category\r\n"two\nlines, and a comma",a\r\n"say ""hi""",b\r\n\r\nplain text,c\r\n"three\r\nline\r\nfield",d' });
  const { rows } = await read(join(dir, 'train.csv'));
  assert.deepEqual(
    rows.map((r) => [r.line, r.text, r.label]),
    [
      [2, 'two\nlines, and a comma', 'a'],
      [4, 'say "hi"', 'b'],
      [6, 'plain text', 'c'],
      [7, 'three\r\nline\r\nfield', 'd'],
    ],
  );
});

test('tsv: a quoted field holding quotes (AG News train-sample style) and a bare quote mid-field', async () => {
  const dir = tmpFiles({ 'x.tsv': '"Allawi said ""major neglect"" led to it"\tWorld\nhe said "no" twice\tSports\n' });
  const { rows } = await read(join(dir, 'x.tsv'));
  assert.deepEqual(rows.map((r) => [r.text, r.label]), [['Allawi said "major neglect" led to it', 'World'], ['he said "no" twice', 'Sports']]);
});

test('tsv: quote: false reads a field that starts with a quote literally', async () => {
  const dir = tmpFiles({ 'x.tsv': 'sentence\tlabel\n"quoted start and more\t1\nnext\t0\n' });
  const { rows } = await read(join(dir, 'x.tsv'), { quote: false });
  assert.deepEqual(rows.map((r) => r.text), ['"quoted start and more', 'next']);
});

test('csv: header detected from known names; columns by name or index; label-first files without header', async () => {
  const dir = tmpFiles({
    'h.csv': 'id,sentence,gold_label\n7,good film,pos\n8,bad film,neg\n',
    'n.csv': 'good film,pos\nbad film,neg\n',
    'l.tsv': 'pos\tgood film\nneg\tbad film\n',
    'p.tsv': 'sentence1\tsentence2\tlabel\na man\ta person\tentailment\n',
  });
  const h = await read(join(dir, 'h.csv'));
  assert.deepEqual(h.rows.map((r) => [r.text, r.label, r.line]), [['good film', 'pos', 2], ['bad film', 'neg', 3]]);
  const byName = await read(join(dir, 'h.csv'), { text: 'sentence', label: 'id' });
  assert.deepEqual(byName.rows.map((r) => r.label), ['7', '8']);
  const byIndex = await read(join(dir, 'n.csv'), { text: 1, label: 0 });
  assert.deepEqual(byIndex.rows.map((r) => [r.text, r.label]), [['pos', 'good film'], ['neg', 'bad film']]);
  const noHeader = await read(join(dir, 'n.csv'));
  assert.deepEqual(noHeader.rows.map((r) => [r.text, r.label, r.line]), [['good film', 'pos', 1], ['bad film', 'neg', 2]]);
  const labelFirst = await read(join(dir, 'l.tsv'));
  assert.deepEqual(labelFirst.rows.map((r) => [r.text, r.label]), [['good film', 'pos'], ['bad film', 'neg']]);
  const pair = await read(join(dir, 'p.tsv'));
  assert.deepEqual(pair.rows, [{ text: 'a man', pair: 'a person', label: 'entailment', line: 2 }]);
  const forcedHeader = await read(join(dir, 'n.csv'), { header: true });
  assert.deepEqual(forcedHeader.rows.map((r) => r.text), ['bad film']);
});

test('csv: a ragged row is an InputError naming file, line and the missing field; skipBad counts it', async () => {
  const dir = tmpFiles({ 'r.csv': 'text,label\nfine,a\n"multi\nline",b\nonly text here\ntoo,many,fields\nlast,c\n' });
  const file = join(dir, 'r.csv');
  await fails(file, 5, 'label', /row has 1 field, expected 2/);
  const { rows, skipped } = await read(file, {}, true);
  assert.deepEqual(rows.map((r) => r.label), ['a', 'b', 'c']);
  assert.equal(skipped.count, 2);
  assert.equal(skipped.first[0]!.line, 5);
  assert.equal(skipped.first[1]!.line, 6);
  assert.equal(skipped.first[1]!.field, 'column 3');
});

test('csv: empty text and empty label are errors naming their column', async () => {
  const dir = tmpFiles({ 'e.csv': 'text,label\n"  ",a\n', 'l.csv': 'text,label\nsome text,\n' });
  await fails(join(dir, 'e.csv'), 2, 'text', /empty text/);
  await fails(join(dir, 'l.csv'), 2, 'label', /empty label/);
});

test('csv: a missing label column, and a named column that does not exist, are errors', async () => {
  const dir = tmpFiles({ 'one.csv': 'text\nhello\n', 'two.csv': 'text,label\nhello,a\n' });
  await fails(join(dir, 'one.csv'), 1, 'label', /no label column/);
  await fails(join(dir, 'two.csv'), 1, 'category', /no label column 'category' \(header has: text, label\)/, { label: 'category' });
  const unlabelled = await read(join(dir, 'one.csv'), { label: false });
  assert.deepEqual(unlabelled.rows, [{ text: 'hello', line: 2 }]);
});

test('csv: an unclosed quote names the line where its row starts', async () => {
  const dir = tmpFiles({ 'q.csv': 'text,label\nok,a\n"never closed,b\nmore,c\n' });
  const file = join(dir, 'q.csv');
  await fails(file, 3, undefined, /never closed/);
  const { rows, skipped } = await read(file, {}, true);
  assert.deepEqual(rows.map((r) => r.label), ['a']);
  assert.equal(skipped.count, 1);
});

test('csv: invalid UTF-8 names line and the column holding the bad bytes', async () => {
  const dir = tmpFiles({ 'u.csv': Buffer.concat([Buffer.from('text,label\nfine,a\n"multi\nline '), Buffer.from([0xff]), Buffer.from('",b\nafter,c\n')]) });
  const file = join(dir, 'u.csv');
  await fails(file, 4, 'text', /invalid UTF-8 \(byte 0xFF at byte 6\)/);
  const { rows, skipped } = await read(file, {}, true);
  assert.deepEqual(rows.map((r) => [r.label, r.line]), [['a', 2], ['c', 5]]);
  assert.equal(skipped.count, 1);
});
