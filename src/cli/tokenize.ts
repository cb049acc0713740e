/**
 * `slimtext tokenize`: BERT WordPiece token ids for each line of stdin, one output line per input
 * line, streamed (a batch of lines at a time, never the whole input).
 */
import { once } from 'node:events';
import { InputError } from '../errors.js';
import { streamLineBatches } from '../data/corpusStream.js';
import { loadTokenizer } from '../text/tokenizer.js';
import { type Command, UsageError, flag, num, req } from './command.js';

export const command: Command = {
  name: 'tokenize',
  summary:
    'Reads lines on stdin and prints, per line, its BERT WordPiece token ids (with [CLS]/[SEP]), space-separated, as Hugging Face tokenizers would.',
  usage: '--vocab PATH [--cased] [--max-length N] [--pairs] [--tokens]',
  options: {
    vocab: { type: 'string', help: 'a vocab.txt, a tokenizer.json, or a checkpoint folder holding one' },
    cased: { type: 'boolean', help: 'keep case and accents (cased vocabularies); default: as the tokenizer config says, else uncased' },
    'max-length': { type: 'string', help: "truncate to N tokens including [CLS]/[SEP]; 0: never (default: the tokenizer's model_max_length, else 512)" },
    pairs: { type: 'boolean', help: 'each line is TEXT<TAB>PAIR, encoded as a pair (token type 1 for PAIR)' },
    tokens: { type: 'boolean', help: 'print the word pieces instead of their ids' },
    json: { type: 'boolean', help: 'one JSON object per line: {"ids": [...], "tokens": [...]}' },
  },
  examples: [
    'tokenize --vocab ../shared/models/bert-l4-h128-mlm < lines.txt',
    'tokenize --vocab vocab.txt --tokens --json < lines.txt',
  ],
  async run(args) {
    const maxLength = num(args, 'tokenize', 'max-length');
    if (maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength >= 0)) throw new UsageError('tokenize: --max-length must be a whole number >= 0');
    const tok = loadTokenizer(req(args, 'tokenize', 'vocab'), flag(args, 'cased') ? { lowercase: false } : {});
    const opts = maxLength === 0 ? { truncation: false } : { maxLength: maxLength ?? tok.modelMaxLength };
    const pairs = flag(args, 'pairs');
    const asTokens = flag(args, 'tokens');
    const json = flag(args, 'json');
    const out = process.stdout;
    for await (const batch of streamLineBatches(process.stdin, '<stdin>')) {
      let text = '';
      for (let i = 0; i < batch.lines.length; i++) {
        const line = batch.lines[i]!;
        let a = line;
        let b: string | undefined;
        if (pairs) {
          const tab = line.indexOf('\t');
          if (tab < 0) throw new InputError('<stdin>', batch.firstLine + i, undefined, 'expected TEXT<TAB>PAIR (--pairs)');
          a = line.slice(0, tab);
          b = line.slice(tab + 1);
        }
        const { ids } = tok.encode(a, b, opts);
        const pieces = asTokens || json ? Array.from(ids, (id) => tok.idToToken(id)) : [];
        text += (json ? JSON.stringify({ ids: Array.from(ids), tokens: pieces }) : asTokens ? pieces.join(' ') : ids.join(' ')) + '\n';
      }
      if (!out.write(text)) await once(out, 'drain');
    }
    return 0;
  },
};
