/**
 * Label <-> id maps, saved with every model as JSON, and the check that dev/test labels were seen
 * in training: an unseen label is reported (rows, counts, first line), never silently dropped.
 *
 * Ids follow the labels' natural order (numeric labels by value: '2' < '10'; others by code point),
 * so the same label set always gets the same ids whatever order the rows come in.
 */
import { InputError, SlimtextError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Example } from './dataset.js';
import { readJsonFile } from './jsonFile.js';

export const LABEL_MAP_VERSION = 1;

export interface LabelMapJson {
  version: number;
  labels: string[];
}

export class LabelMap {
  private readonly index: Map<string, number>;

  private constructor(readonly labels: readonly string[]) {
    this.index = new Map(labels.map((l, i) => [l, i]));
  }

  /** A map over the distinct labels given, in natural order. */
  static fromLabels(labels: Iterable<string>): LabelMap {
    return new LabelMap([...new Set(labels)].sort(naturalCompare));
  }

  /** A map over the labels of a split (streams it; rows without a label are ignored). */
  static async fromExamples(examples: AsyncIterable<Example> | Iterable<Example>): Promise<LabelMap> {
    const seen = new Set<string>();
    for await (const ex of examples) if (ex.label !== undefined) seen.add(ex.label);
    return LabelMap.fromLabels(seen);
  }

  /** Keeps the ids exactly as listed (a saved map). */
  static fromJSON(json: unknown, file = '<label map>'): LabelMap {
    const j = json as Partial<LabelMapJson>;
    if (typeof j !== 'object' || j === null || !Array.isArray(j.labels)) throw new InputError(file, undefined, 'labels', 'expected {"version": 1, "labels": [...]}');
    if (j.version !== LABEL_MAP_VERSION) throw new InputError(file, undefined, 'version', `label map version ${String(j.version)}; this slimtext reads version ${LABEL_MAP_VERSION}`);
    const labels = j.labels;
    labels.forEach((l, i) => {
      if (typeof l !== 'string') throw new InputError(file, undefined, `labels[${i}]`, 'not a string');
    });
    if (new Set(labels).size !== labels.length) throw new InputError(file, undefined, 'labels', 'a label is listed twice');
    return new LabelMap(labels as string[]);
  }

  static async load(file: string): Promise<LabelMap> {
    return LabelMap.fromJSON(await readJsonFile(file, 'label map JSON'), file);
  }

  get size(): number {
    return this.labels.length;
  }

  has(label: string): boolean {
    return this.index.has(label);
  }

  /** The id of a label, or undefined when the map has no such label. */
  idOf(label: string): number | undefined {
    return this.index.get(label);
  }

  /** The id of a label; throws naming the label when it is unknown. */
  id(label: string): number {
    const i = this.index.get(label);
    if (i === undefined) throw new SlimtextError(`unknown label '${label}' (the label map has ${this.size} labels)`);
    return i;
  }

  label(id: number): string {
    const l = this.labels[id];
    if (l === undefined) throw new SlimtextError(`label id ${id} out of range (the label map has ${this.size} labels)`);
    return l;
  }

  /** Ids of the examples' labels; a label not in the map is -1 (see unseenLabels for the report). */
  encode(examples: readonly Example[]): Int32Array {
    const out = new Int32Array(examples.length);
    examples.forEach((ex, i) => (out[i] = ex.label === undefined ? -1 : (this.index.get(ex.label) ?? -1)));
    return out;
  }

  toJSON(): LabelMapJson {
    return { version: LABEL_MAP_VERSION, labels: [...this.labels] };
  }

  async save(file: string): Promise<void> {
    await writeFileAtomic(file, JSON.stringify(this.toJSON(), null, 2) + '\n');
  }
}

export interface UnseenLabel {
  label: string;
  rows: number;
  /** Line of the first such row, when the source has lines. */
  firstLine?: number;
}

/** Labels of one split that the label map (built on training data) does not know. */
export interface UnseenLabelReport {
  split: string;
  rows: number;
  unseenRows: number;
  unseen: UnseenLabel[];
}

/** Counts, while a split streams by, the rows whose label the map lacks. */
export class UnseenLabelCheck {
  private rows = 0;
  private readonly unseen = new Map<string, UnseenLabel>();
  constructor(private readonly map: LabelMap, readonly split: string) {}

  add(ex: Example): void {
    this.rows++;
    if (ex.label === undefined || this.map.has(ex.label)) return;
    const u = this.unseen.get(ex.label);
    if (u) u.rows++;
    else this.unseen.set(ex.label, { label: ex.label, rows: 1, ...(ex.line !== undefined ? { firstLine: ex.line } : {}) });
  }

  report(): UnseenLabelReport {
    const unseen = [...this.unseen.values()].sort((a, b) => b.rows - a.rows || naturalCompare(a.label, b.label));
    return { split: this.split, rows: this.rows, unseenRows: unseen.reduce((n, u) => n + u.rows, 0), unseen };
  }
}

/** The report for a whole split at once. */
export async function unseenLabels(map: LabelMap, examples: AsyncIterable<Example> | Iterable<Example>, split: string): Promise<UnseenLabelReport> {
  const check = new UnseenLabelCheck(map, split);
  for await (const ex of examples) check.add(ex);
  return check.report();
}

/** One warning line for a report with unseen labels, or undefined when there are none. */
export function unseenWarning(r: UnseenLabelReport, shown = 5): string | undefined {
  if (r.unseen.length === 0) return undefined;
  const list = r.unseen.slice(0, shown).map((u) => `'${u.label}' (${u.rows} row${u.rows === 1 ? '' : 's'}${u.firstLine !== undefined ? `, first at line ${u.firstLine}` : ''})`);
  const more = r.unseen.length > shown ? `, and ${r.unseen.length - shown} more` : '';
  return `warning: ${r.split}: ${r.unseenRows} of ${r.rows} rows have ${r.unseen.length} label${r.unseen.length === 1 ? '' : 's'} not seen in training: ${list.join(', ')}${more}; they are kept, and a classifier can never predict them`;
}

/** Numeric strings by value, everything else by code point; numbers before words. */
export function naturalCompare(a: string, b: string): number {
  const na = /^-?\d+(\.\d+)?$/.test(a);
  const nb = /^-?\d+(\.\d+)?$/.test(b);
  if (na && nb) return Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0);
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
