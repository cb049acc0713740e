/**
 * How many tokens of each sequence survive truncation, following Hugging Face `tokenizers`
 * (utils/truncation.rs) so encodings match `BertTokenizerFast`. `budget` is the maximum length
 * minus the special tokens the template adds.
 *
 * longest_first with a pair: if both fit, nothing changes; if the shorter one fits in half the
 * budget, the longer one gets the rest; otherwise they share it, the originally longer sequence
 * (the second on a tie) taking the odd token. (Python's slow BertTokenizer gives the odd token to
 * the first sequence instead; this is the one place the two HF implementations disagree.)
 */
export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';

export function truncatedLengths(
  lenA: number,
  lenB: number | undefined,
  budget: number,
  strategy: TruncationStrategy = 'longest_first',
): [number, number | undefined] {
  const total = lenA + (lenB ?? 0);
  if (total <= budget) return [lenA, lenB];
  if (lenB === undefined) {
    if (strategy === 'only_second') throw new RangeError('truncation only_second needs a pair of sequences');
    return [budget, undefined];
  }
  const remove = total - budget;
  if (strategy === 'only_first' || strategy === 'only_second') {
    const target = strategy === 'only_first' ? lenA : lenB;
    if (target <= remove) throw new RangeError(`cannot truncate to ${budget} tokens by cutting only the ${strategy === 'only_first' ? 'first' : 'second'} sequence`);
    return strategy === 'only_first' ? [lenA - remove, lenB] : [lenA, lenB - remove];
  }
  const swap = lenA > lenB;
  let n1 = swap ? lenB : lenA;
  let n2: number;
  n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = Math.floor(budget / 2);
    n2 = n1 + (budget % 2);
  }
  const [a, b] = swap ? [n2, n1] : [n1, n2];
  return [Math.min(a, lenA), Math.min(b, lenB)];
}
