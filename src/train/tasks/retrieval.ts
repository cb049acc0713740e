/**
 * The standard 1-of-100 response retrieval test (Henderson et al. 2019, "A repository of
 * conversational datasets"): each message is scored against its true reply and 99 other replies
 * drawn at random (seeded) from the same set; recall@1, recall@5 and MRR of the true reply.
 * With fewer than 100 pairs, every other reply is a candidate. A candidate scoring exactly as the
 * true reply (the same text drawn twice) ranks below it.
 */
import { Rng, Tensor, matmul } from '../../engine/index.js';
import { OpError } from '../../errors.js';
import { meanReciprocalRank, rankByScore, recallAtK } from '../../eval/metrics.js';

export interface RetrievalMetrics {
  recall_at_1: number;
  recall_at_5: number;
  mrr: number;
  n: number;
  /** Candidates per message, the true reply included. */
  candidates: number;
}

export interface RetrievalOptions {
  candidates?: number;
  seed?: number;
  /** Messages scored per matrix product (bounds memory: chunk x N scores). */
  chunk?: number;
}

/**
 * messages and replies: (N, H) row-major vectors, row i of each forming a true pair, already
 * prepared for scoring (normalised for cosine); the score is their dot product (the scale does not
 * change a ranking).
 */
export function oneOfNRetrieval(messages: Float32Array, replies: Float32Array, H: number, opts: RetrievalOptions = {}): RetrievalMetrics {
  const N = messages.length / H;
  if (!Number.isInteger(N) || replies.length !== messages.length) {
    throw new OpError('oneOfNRetrieval', `messages (${messages.length / H} x ${H}) and replies (${replies.length / H} x ${H}) must be N x H each`);
  }
  const C = Math.min(opts.candidates ?? 100, N);
  if (N === 0) return { recall_at_1: 0, recall_at_5: 0, mrr: 0, n: 0, candidates: C };
  const cands = candidateLists(N, C, opts.seed ?? 0);
  const V = new Tensor(replies, [N, H]);
  const chunk = opts.chunk ?? 256;
  const picked = new Float32Array(N * C);
  for (let s = 0; s < N; s += chunk) {
    const e = Math.min(N, s + chunk);
    const scores = matmul(new Tensor(messages.subarray(s * H, e * H), [e - s, H]), V, { transB: true }).data;
    // Gathering 100 of N scores per message: bookkeeping once per evaluation, not a training kernel.
    for (let i = s; i < e; i++) for (let c = 0; c < C; c++) picked[i * C + c] = scores[(i - s) * N + cands[i * C + c]!]!;
  }
  const ranked = rankByScore(picked, N, C);
  const gold = new Int32Array(N);
  return { recall_at_1: recallAtK(ranked, gold, 1), recall_at_5: recallAtK(ranked, gold, 5), mrr: meanReciprocalRank(ranked, gold), n: N, candidates: C };
}

/** (N, C) candidate reply ids: the true reply (i) first, then C - 1 distinct others. */
function candidateLists(N: number, C: number, seed: number): Int32Array {
  const rng = Rng.derive(seed, 'one-of-n');
  const out = new Int32Array(N * C);
  for (let i = 0; i < N; i++) {
    out[i * C] = i;
    if (C === N) {
      let c = 1;
      for (let j = 0; j < N; j++) if (j !== i) out[i * C + c++] = j;
      continue;
    }
    const seen = new Set<number>([i]);
    for (let c = 1; c < C; ) {
      const j = rng.int(N);
      if (seen.has(j)) continue;
      seen.add(j);
      out[i * C + c++] = j;
    }
  }
  return out;
}
