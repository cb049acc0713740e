/**
 * ConvLab-3 unified dialogues (DailyDialog's `data.zip` holding `data/dialogues.json`, or a bare
 * `dialogues.json`): a list of `{data_split, dialogue_id, domains, turns: [{speaker, utterance,
 * dialogue_acts, emotion}]}`.
 *  - unit 'pairs' (default): every two adjacent turns are a message -> reply example (text, target),
 *    with both turns' dialogue act and emotion, and the dialogue's topic, in `meta`.
 *  - unit 'turns': every turn is an example, labelled by its dialogue act (or emotion, or topic).
 * Split names are the `data_split` values (train, validation, test).
 *
 * The archive is unzipped with fflate and the JSON parsed whole (47 MB for DailyDialog): a zip
 * member needs the whole archive's directory anyway and a JSON list cannot be streamed without a
 * streaming JSON parser; the parse is done once per Dataset and shared by its splits.
 */
import { unzipSync } from 'fflate';
import { InputError } from '../errors.js';
import { type BadRow, type Example, type SplitSource, checkRow } from './dataset.js';
import { parseJsonBytes, readFileBytes } from './jsonFile.js';

export interface ConvlabOptions {
  unit?: 'pairs' | 'turns';
  /** Which annotation is the label: of the message for pairs, of the turn for turns (default 'act' for turns, none for pairs). */
  label?: 'act' | 'emotion' | 'topic';
}

interface Turn {
  utterance: string;
  act: string;
  emotion: string;
}

interface Dialogue {
  split: string;
  id: string;
  topic: string;
  turns: Turn[];
  index: number;
}

/** The member of a ConvLab zip that holds the dialogues. */
export const DIALOGUES_MEMBER = 'data/dialogues.json';

export async function convlabSources(file: string, opts: ConvlabOptions = {}): Promise<Map<string, SplitSource>> {
  const dialogues = await loadDialogues(file);
  const sources = new Map<string, SplitSource>();
  for (const d of dialogues) {
    if (sources.has(d.split)) continue;
    const split = d.split;
    sources.set(split, { file, format: 'convlab', examples: (bad) => examples(file, dialogues, split, opts, bad) });
  }
  return sources;
}

async function* examples(file: string, dialogues: Dialogue[], split: string, opts: ConvlabOptions, bad: BadRow): AsyncGenerator<Example> {
  const unit = opts.unit ?? 'pairs';
  const labelOf = (d: Dialogue, t: Turn): string | undefined => {
    const which = opts.label ?? (unit === 'turns' ? 'act' : undefined);
    return which === 'act' ? t.act : which === 'emotion' ? t.emotion : which === 'topic' ? d.topic : undefined;
  };
  for (const d of dialogues) {
    if (d.split !== split) continue;
    if (unit === 'turns') {
      for (let i = 0; i < d.turns.length; i++) {
        const t = d.turns[i]!;
        const ex: Example = { text: t.utterance, label: labelOf(d, t), meta: { dialogue_id: d.id, turn: String(i), act: t.act, emotion: t.emotion, topic: d.topic } };
        if (ex.label?.includes('#')) ex.labels = ex.label.split('#');
        if (checkRow(ex, file, bad, ex.label !== undefined, fieldsOf(d, i))) yield ex;
      }
      continue;
    }
    for (let i = 0; i + 1 < d.turns.length; i++) {
      const t = d.turns[i]!;
      const r = d.turns[i + 1]!;
      const ex: Example = {
        text: t.utterance,
        target: r.utterance,
        meta: { dialogue_id: d.id, turn: String(i), act: t.act, emotion: t.emotion, reply_act: r.act, reply_emotion: r.emotion, topic: d.topic },
      };
      const label = labelOf(d, t);
      if (label !== undefined) ex.label = label;
      if (ex.target!.trim() === '') {
        bad(new InputError(file, undefined, fieldsOf(d, i + 1).text, 'empty reply'));
        continue;
      }
      if (checkRow(ex, file, bad, label !== undefined, fieldsOf(d, i))) yield ex;
    }
  }
}

function fieldsOf(d: Dialogue, turn: number) {
  return { text: `dialogues[${d.index}].turns[${turn}].utterance`, label: `dialogues[${d.index}].turns[${turn}]` };
}

async function loadDialogues(file: string): Promise<Dialogue[]> {
  const bytes = await readFileBytes(file);
  let json: Uint8Array = bytes;
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    let members: Record<string, Uint8Array>;
    try {
      members = unzipSync(bytes, { filter: (f) => f.name === DIALOGUES_MEMBER || f.name.endsWith('/dialogues.json') || f.name === 'dialogues.json' });
    } catch (e) {
      throw new InputError(file, undefined, undefined, `not a readable zip (${(e as Error).message})`);
    }
    const name = DIALOGUES_MEMBER in members ? DIALOGUES_MEMBER : Object.keys(members)[0];
    if (name === undefined) throw new InputError(file, undefined, DIALOGUES_MEMBER, 'the zip holds no dialogues.json');
    json = members[name]!;
  }
  const raw = parseJsonBytes(file, json, 'dialogues.json');
  if (!Array.isArray(raw)) throw new InputError(file, undefined, 'dialogues', 'expected a list of dialogues');
  return raw.map((d, index) => toDialogue(file, d, index));
}

function toDialogue(file: string, d: unknown, index: number): Dialogue {
  const where = `dialogues[${index}]`;
  const o = d as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || !Array.isArray(o.turns)) throw new InputError(file, undefined, `${where}.turns`, 'expected a dialogue with a list of turns');
  if (typeof o.data_split !== 'string') throw new InputError(file, undefined, `${where}.data_split`, 'missing');
  const turns = o.turns.map((t: unknown, i: number): Turn => {
    const tt = t as Record<string, unknown>;
    if (typeof tt !== 'object' || tt === null || typeof tt.utterance !== 'string') throw new InputError(file, undefined, `${where}.turns[${i}].utterance`, 'missing or not a string');
    return { utterance: tt.utterance, act: actsOf(tt.dialogue_acts), emotion: typeof tt.emotion === 'string' ? tt.emotion : '' };
  });
  const domains = Array.isArray(o.domains) ? o.domains.filter((x): x is string => typeof x === 'string') : [];
  return { split: o.data_split, id: typeof o.dialogue_id === 'string' ? o.dialogue_id : String(index), topic: domains.join('#'), turns, index };
}

/** The turn's dialogue-act intents (binary, categorical and non-categorical), distinct, joined by '#'. */
function actsOf(acts: unknown): string {
  if (typeof acts !== 'object' || acts === null) return '';
  const out: string[] = [];
  for (const kind of ['binary', 'categorical', 'non-categorical']) {
    const list = (acts as Record<string, unknown>)[kind];
    if (!Array.isArray(list)) continue;
    for (const a of list) {
      const intent = (a as Record<string, unknown>)?.intent;
      if (typeof intent === 'string' && !out.includes(intent)) out.push(intent);
    }
  }
  return out.join('#');
}
