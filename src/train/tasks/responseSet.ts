/**
 * The fixed reply set a reply-suggestion model ranks (as Smart Reply does): the most frequent
 * training replies after normalisation, so "Thank you !" and "thank you!" count as one reply,
 * shown in its most common written form.
 */

/** Lower case, one space between words, no space before closing punctuation, trimmed. */
export function normalizeReply(text: string): string {
  return text
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/ ([.,!?;:'’%)\]])/g, '$1')
    .replace(/([(\[]) /g, '$1')
    .trim();
}

export interface ResponseSet {
  /** Display form of each reply, most frequent first. */
  texts: string[];
  /** How many training replies normalise to each. */
  counts: number[];
}

/** The `size` most frequent normalised replies (ties: first seen first). */
export function buildResponseSet(replies: readonly string[], size: number): ResponseSet {
  const groups = new Map<string, { count: number; first: number; forms: Map<string, number> }>();
  replies.forEach((r, i) => {
    const key = normalizeReply(r);
    if (key === '') return;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { count: 0, first: i, forms: new Map() }));
    g.count++;
    const form = r.trim().replace(/\s+/g, ' ');
    g.forms.set(form, (g.forms.get(form) ?? 0) + 1);
  });
  const top = [...groups.values()].sort((a, b) => b.count - a.count || a.first - b.first).slice(0, Math.max(0, size));
  return {
    texts: top.map((g) => [...g.forms].reduce((best, f) => (f[1] > best[1] ? f : best))[0]),
    counts: top.map((g) => g.count),
  };
}
