import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { InputError } from '../../src/errors.js';
import { collect, resolveSplit, splitNameOf } from '../../src/data/dataset.js';
import { detectFile, openDataset } from '../../src/data/open.js';
import { tmpFiles } from './fixtures.js';

const clinc = (n: string) => JSON.stringify({ train: [[`${n} train`, 'a']], val: [[`${n} val`, 'a']], test: [[`${n} test`, 'a']], oos_test: [['x', 'oos']] });

test('detectFile: extension, file name and first bytes', async () => {
  const dir = tmpFiles({
    'a.csv': 'text,label\nx,y\n',
    'ag/test.csv': '"1","t","d"\n',
    'ag/classes.txt': 'World\n',
    'b.tsv': 'x\ty\n',
    'c.jsonl': '{}\n',
    'd.json': clinc('d'),
    'dlg.json': '[{"data_split": "train", "turns": []}]',
    'other.json': '{"a": 1}',
    'TREC.train.all': '0 what ?\n',
    'e.txt': 'i feel fine;joy\n',
    'f.txt': 'just a sentence, with words\n',
    'g.zip': 'PK',
    'h.parquet': 'x',
  });
  const expect: Record<string, string> = { 'a.csv': 'csv', 'ag/test.csv': 'agnews', 'b.tsv': 'tsv', 'c.jsonl': 'jsonl', 'd.json': 'clinc', 'dlg.json': 'convlab', 'TREC.train.all': 'trec', 'e.txt': 'semicolon', 'f.txt': 'lines', 'g.zip': 'convlab' };
  for (const [f, fmt] of Object.entries(expect)) assert.equal(await detectFile(join(dir, f)), fmt, f);
  await assert.rejects(detectFile(join(dir, 'other.json')), (e: unknown) => e instanceof InputError && e.field === 'format');
  await assert.rejects(detectFile(join(dir, 'h.parquet')), (e: unknown) => e instanceof InputError && /cannot tell the format of a '\.parquet' file/.test(e.message));
});

test('openDataset: --format overrides detection; an unknown format or path is a clear InputError', async () => {
  const dir = tmpFiles({ 'data.txt': 'good film\tpos\nbad film\tneg\n' });
  const ds = await openDataset(join(dir, 'data.txt'), { format: 'tsv' });
  assert.equal(ds.format, 'tsv');
  assert.deepEqual((await collect(ds.read('data'))).map((r) => r.label), ['pos', 'neg']);
  await assert.rejects(openDataset(join(dir, 'data.txt'), { format: 'parquet' }), (e: unknown) => e instanceof InputError && e.field === 'format' && /unknown format 'parquet' \(known: csv, tsv/.test(e.message));
  await assert.rejects(openDataset(join(dir, 'missing.csv')), (e: unknown) => e instanceof InputError && /no such file or folder/.test(e.message));
});

test('a folder yields all its splits in train/dev/test order; split aliases resolve', async () => {
  const dir = tmpFiles({
    'set/test.tsv': 'sentence\tlabel\nt\t1\n',
    'set/train.tsv': 'sentence\tlabel\na\t0\nb\t1\n',
    'set/dev.tsv': 'sentence\tlabel\nd\t0\n',
    'set/LICENSE': 'MIT',
    'set/README.md': '# x',
  });
  const ds = await openDataset(join(dir, 'set'));
  assert.deepEqual(ds.splits, ['train', 'dev', 'test']);
  assert.equal((await collect(ds.read('validation')))[0]!.text, 'd');
  assert.equal(ds.fileOf('val'), join(dir, 'set/dev.tsv'));
  await assert.rejects(async () => ds.read('holdout'), (e: unknown) => e instanceof InputError && /no split 'holdout' \(has: train, dev, test\)/.test(e.message));
  assert.equal(resolveSplit(['train', 'validation', 'test'], 'dev'), 'validation');
  assert.equal(resolveSplit(['train', 'test'], 'dev'), undefined);
  assert.equal(splitNameOf('TREC.train.all'), 'train');
  assert.equal(splitNameOf('train-sample.tsv'), 'train');
  assert.equal(splitNameOf('data_full.json'), 'data_full');
});

test('a folder of mixed sources: files plus a seq.in set one level down (BANKING77 layout)', async () => {
  const dir = tmpFiles({
    'b77/train.csv': 'text,category\nhi,a\n',
    'b77/test.csv': 'text,category\nyo,a\n',
    'b77/categories.json': '["a"]',
    'b77/splits/train/seq.in': 'hi\n',
    'b77/splits/train/label': 'a\n',
    'b77/splits/valid/seq.in': 'hey\n',
    'b77/splits/valid/label': 'a\n',
  });
  const ds = await openDataset(join(dir, 'b77'));
  assert.equal(ds.format, 'mixed');
  assert.deepEqual(ds.splits, ['train', 'test', 'splits/train', 'splits/valid']);
  assert.equal(ds.formatOf('splits/valid'), 'seqin');
  assert.equal((await collect(ds.read('splits/valid')))[0]!.text, 'hey');
});

test('a CLINC folder reads the full variant and names the others and the unlabelled text', async () => {
  const dir = tmpFiles({ 'c/data_small.json': clinc('small'), 'c/data_full.json': clinc('full'), 'c/domains.json': '{"banking": ["a"]}', 'c/all_wiki_sents.txt': 'a sentence\n' });
  const ds = await openDataset(join(dir, 'c') + '/');
  assert.deepEqual(ds.splits, ['train', 'val', 'test', 'oos_test']);
  assert.equal((await collect(ds.read('train')))[0]!.text, 'full train');
  assert.equal(ds.notes.length, 2);
  assert.match(ds.notes[0]!, /read data_full\.json; the other variants \(data_small\.json\)/);
  assert.match(ds.notes[1]!, /unlabelled text \(all_wiki_sents\.txt\)/);
});

test('a folder with no data is an error, not an empty data set', async () => {
  const dir = tmpFiles({ 'empty/README.md': 'nothing here' });
  await assert.rejects(openDataset(join(dir, 'empty')), (e: unknown) => e instanceof InputError && /no data files found/.test(e.message));
});
