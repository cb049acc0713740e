import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { InputError } from '../../src/errors.js';
import { collect } from '../../src/data/dataset.js';
import { type OpenOptions, openDataset } from '../../src/data/open.js';
import { rejectsInput, tmpFiles } from './fixtures.js';

async function readAll(path: string, opts: OpenOptions = {}, skipBad = false) {
  const ds = await openDataset(path, opts);
  const out: Record<string, Awaited<ReturnType<typeof collect>>> = {};
  const skipped: Record<string, number> = {};
  for (const s of ds.splits) {
    const stream = ds.read(s, { skipBad });
    out[s] = await collect(stream);
    skipped[s] = stream.skipped.count;
  }
  return { ds, out, skipped };
}

test('jsonl: fields found by usual names or named; list labels are multi-label; bad lines named', async () => {
  const dir = tmpFiles({
    'train.jsonl': '{"text": "hi there", "label": "greet"}\n\n{"text": "bye", "label": 3}\n',
    'named.jsonl': '{"q": "what", "intent": "ask", "a": "this"}\n',
    'bad.jsonl': '{"text": "ok", "label": "x"}\n{"text": "no label"}\n{not json}\n["a"]\n{"text": "", "label": "y"}\n',
  });
  const { out } = await readAll(join(dir, 'train.jsonl'));
  assert.deepEqual(out.train!.map((r) => [r.line, r.text, r.label]), [[1, 'hi there', 'greet'], [3, 'bye', '3']]);
  // The label field is chosen on the first row ('label'); a later row without it is bad.
  await rejectsInput(readAll(join(dir, 'bad.jsonl')), join(dir, 'bad.jsonl'), 2, 'label', /missing/);
  const named = await readAll(join(dir, 'named.jsonl'), { text: 'q', target: 'a' });
  assert.deepEqual(named.out.named![0], { text: 'what', label: 'ask', target: 'this', line: 1 });
  const bad = await readAll(join(dir, 'bad.jsonl'), {}, true);
  assert.deepEqual(bad.out.bad!.map((r) => r.text), ['ok']);
  assert.equal(bad.skipped.bad, 4);
  const multi = tmpFiles({ 'm.jsonl': '{"text": "both", "labels": ["a", "b"]}\n' });
  const m = await readAll(join(multi, 'm.jsonl'));
  assert.deepEqual(m.out.m![0], { text: 'both', labels: ['a', 'b'], label: 'a#b', line: 1 });
});

test('seq.in + label folders: splits from subfolders, ATIS-style joined labels, misaligned files', async () => {
  const dir = tmpFiles({
    'set/train/seq.in': 'i want to fly\nshow fares\n',
    'set/train/label': 'atis_flight\natis_airfare#atis_flight\n',
    'set/test/seq.in': 'list flights\n',
    'set/test/label': 'atis_flight\n',
    'short/train/seq.in': 'a\nb\nc\n',
    'short/train/label': 'x\ny\n',
    'empty/train/seq.in': 'a\n  \n',
    'empty/train/label': 'x\ny\n',
  });
  const { ds, out } = await readAll(join(dir, 'set'));
  assert.deepEqual(ds.splits, ['train', 'test']);
  assert.equal(ds.format, 'seqin');
  assert.deepEqual(out.train![1], { text: 'show fares', label: 'atis_airfare#atis_flight', labels: ['atis_airfare', 'atis_flight'], line: 2 });
  await rejectsInput(readAll(join(dir, 'short')), join(dir, 'short/train/label'), 3, undefined, /ends after 2 lines but .*seq\.in goes on/);
  // Misalignment is never skippable: every later pair would be wrong.
  await assert.rejects(readAll(join(dir, 'short'), {}, true), InputError);
  await rejectsInput(readAll(join(dir, 'empty')), join(dir, 'empty/train/seq.in'), 2, 'text', /empty text/);
  const one = await readAll(join(dir, 'set/test/seq.in'));
  assert.deepEqual(one.ds.splits, ['test']);
});

test('TREC: first token is the label; COARSE:fine keeps the coarse label; Latin-1 by default', async () => {
  const dir = tmpFiles({
    'TREC.train.all': Buffer.concat([Buffer.from('0 How did it start ?\nDESC:manner How can I go ?\n4 Which sister'), Buffer.from([0xf0]), Buffer.from('city ?\n')]),
    'TREC.test.all': 'justonetoken\n',
  });
  const { out } = await readAll(join(dir, 'TREC.train.all'));
  assert.deepEqual(out.train!.map((r) => [r.label, r.text]), [['0', 'How did it start ?'], ['DESC', 'How can I go ?'], ['4', 'Which sister\u00F0city ?']]);
  assert.deepEqual(out.train![1]!.meta, { fine: 'DESC:manner' });
  const fine = await readAll(join(dir, 'TREC.train.all'), { fineLabels: true });
  assert.equal(fine.out.train![1]!.label, 'DESC:manner');
  await rejectsInput(readAll(join(dir, 'TREC.train.all'), { encoding: 'utf-8' }), join(dir, 'TREC.train.all'), 3, 'text', /invalid UTF-8/);
  await rejectsInput(readAll(join(dir, 'TREC.test.all')), join(dir, 'TREC.test.all'), 1, 'text', /found one token/);
});

test('semicolon (emotion): header skipped, label after the last ;, a line without ; is bad', async () => {
  const dir = tmpFiles({ 'train.txt': 'text;label_name\ni feel; fine;joy\ni am sad;sadness\n', 'val.txt': 'i feel good;joy\nno label here at all\n' });
  const { out } = await readAll(join(dir, 'train.txt'));
  assert.deepEqual(out.train!.map((r) => [r.line, r.text, r.label]), [[2, 'i feel; fine', 'joy'], [3, 'i am sad', 'sadness']]);
  await rejectsInput(readAll(join(dir, 'val.txt')), join(dir, 'val.txt'), 2, 'label', /no ';'/);
});

test('CLINC JSON: every key is a split, oos rows labelled oos; merge folds oos_X into X; bad rows named by path', async () => {
  const data = { oos_val: [['is it raining on mars', 'oos']], train: [['book a table', 'restaurant'], ['what time is it', 'time']], val: [['table for two', 'restaurant']], oos_train: [['sing me a song', 'oos']] };
  const dir = tmpFiles({ 'data_full.json': JSON.stringify(data), 'bad.json': JSON.stringify({ train: [['ok', 'a'], ['missing intent'], ['', 'b']] }) });
  const { ds, out } = await readAll(join(dir, 'data_full.json'));
  assert.equal(ds.format, 'clinc');
  assert.deepEqual(ds.splits, ['oos_val', 'train', 'val', 'oos_train']);
  assert.deepEqual(out.oos_train, [{ text: 'sing me a song', label: 'oos' }]);
  const merged = await readAll(join(dir, 'data_full.json'), { oos: 'merge' });
  assert.deepEqual(merged.ds.splits, ['train', 'val']);
  assert.deepEqual(merged.out.train!.map((r) => r.label), ['restaurant', 'time', 'oos']);
  assert.deepEqual(merged.out.val!.map((r) => r.label), ['restaurant', 'oos']);
  await rejectsInput(readAll(join(dir, 'bad.json')), join(dir, 'bad.json'), undefined, 'train[1]', /expected \[text, intent\]/);
  const skipped = await readAll(join(dir, 'bad.json'), {}, true);
  assert.equal(skipped.out.train!.length, 1);
  assert.equal(skipped.skipped.train, 2);
});

test('ConvLab zip: adjacent turns become message -> reply pairs per split; turns mode labels acts', async () => {
  const turn = (utterance: string, intent: string, emotion: string) => ({ speaker: 'user', utterance, dialogue_acts: { binary: [{ intent, domain: '', slot: '' }], categorical: [], 'non-categorical': [] }, emotion });
  const dialogues = [
    { data_split: 'train', dialogue_id: 'd-0', domains: ['Work'], turns: [turn('Hi.', 'inform', 'no emotion'), turn('Hello!', 'inform', 'happiness'), turn('Coffee?', 'question', 'no emotion')] },
    { data_split: 'test', dialogue_id: 'd-1', domains: ['Health'], turns: [turn('Ouch.', 'inform', 'sadness'), turn('What happened?', 'question', 'surprise')] },
    { data_split: 'train', dialogue_id: 'd-2', domains: ['Work'], turns: [turn('Done.', 'inform', 'no emotion'), turn('Good.', 'commissive', 'happiness')] },
  ];
  const dir = tmpFiles({ 'data.zip': zipSync({ 'data/ontology.json': strToU8('{}'), 'data/dialogues.json': strToU8(JSON.stringify(dialogues)) }), 'empty.zip': zipSync({ 'x.txt': strToU8('x') }) });
  const { ds, out } = await readAll(join(dir, 'data.zip'));
  assert.equal(ds.format, 'convlab');
  assert.deepEqual(ds.splits, ['train', 'test']);
  assert.deepEqual(out.train!.map((r) => [r.text, r.target]), [['Hi.', 'Hello!'], ['Hello!', 'Coffee?'], ['Done.', 'Good.']]);
  assert.deepEqual(out.test![0]!.meta, { dialogue_id: 'd-1', turn: '0', act: 'inform', emotion: 'sadness', reply_act: 'question', reply_emotion: 'surprise', topic: 'Health' });
  assert.equal(out.test![0]!.label, undefined);
  const turns = await readAll(join(dir, 'data.zip'), { unit: 'turns' });
  assert.deepEqual(turns.out.train!.map((r) => r.label), ['inform', 'inform', 'question', 'inform', 'commissive']);
  const emotions = await readAll(join(dir, 'data.zip'), { label: 'emotion' });
  assert.deepEqual(emotions.out.test!.map((r) => r.label), ['sadness']);
  await rejectsInput(readAll(join(dir, 'empty.zip')), join(dir, 'empty.zip'), undefined, 'data/dialogues.json', /no dialogues\.json/);
});

test('AG News CSV: class ids mapped through classes.txt; title and description joined; unknown id named', async () => {
  const dir = tmpFiles({
    'test.csv': '"3","Fears for pension","Unions say they are ""disappointed""."\n"1","Title","Desc"\n',
    'classes.txt': 'World\nSports\nBusiness\nSci/Tech\n',
    'bad/test.csv': '"9","T","D"\n',
    'bad/classes.txt': 'World\n',
  });
  const { ds, out } = await readAll(join(dir, 'test.csv'));
  assert.equal(ds.format, 'agnews');
  assert.deepEqual(out.test!.map((r) => [r.label, r.text]), [['Business', 'Fears for pension Unions say they are "disappointed".'], ['World', 'Title Desc']]);
  await rejectsInput(readAll(join(dir, 'bad/test.csv')), join(dir, 'bad/test.csv'), 1, 'column 1', /unknown class '9'/);
});

test('plain text lines: unlabelled examples', async () => {
  const dir = tmpFiles({ 'sents.txt': 'one sentence here\n\nanother one\n' });
  const { ds, out } = await readAll(join(dir, 'sents.txt'));
  assert.equal(ds.format, 'lines');
  assert.deepEqual(out.sents, [{ text: 'one sentence here', line: 1 }, { text: 'another one', line: 3 }]);
});
