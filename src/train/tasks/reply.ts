/**
 * Fine-tuning a BiEncoder for reply suggestion: in-batch negatives (each message's own reply is the
 * right one of the batch's B replies); dev metrics from the 1-of-100 retrieval test. With shared
 * weights, messages and replies go through one encoder (and one runner), each set under its own
 * cache keys.
 */
import type { Tensor } from '../../engine/index.js';
import type { BiEncoder, Side } from '../../models/biEncoder.js';
import { sideVectors } from '../../models/inference.js';
import type { TaskModel } from '../../models/taskModel.js';
import type { TokenizedSet } from '../../models/textBatch.js';
import type { WordPieceTokenizer } from '../../text/tokenizer.js';
import { frozenToEval, type FreezePlan } from '../freeze.js';
import type { CacheStats, PrefixRunner } from '../prefixCache.js';
import { oneOfNRetrieval } from './retrieval.js';
import type { Metrics, TrainTask } from './task.js';

export interface ReplyData {
  trainMessages: TokenizedSet;
  trainReplies: TokenizedSet;
  devMessages: TokenizedSet;
  devReplies: TokenizedSet;
  responses: readonly string[];
}

export class ReplyTask implements TrainTask {
  readonly kind = 'reply' as const;
  readonly selectMetric = 'recall_at_1';
  readonly trainLengths: Int32Array;

  constructor(
    readonly module: BiEncoder,
    /** One plan per distinct encoder (message first). */
    private readonly plans: readonly FreezePlan[],
    /** Runner of the message encoder and of the reply encoder (the same one when shared). */
    private readonly runners: Readonly<Record<Side, PrefixRunner>>,
    private readonly data: ReplyData,
    private readonly tokenizer: WordPieceTokenizer,
    private readonly maxLength: number,
    private readonly evalBatchSize: number,
    private readonly seed: number,
  ) {
    this.trainLengths = data.trainMessages.lengths.map((l, i) => l + data.trainReplies.lengths[i]!);
    runners.message.register(data.trainMessages);
    runners.message.register(data.devMessages);
    runners.reply.register(data.trainReplies);
    runners.reply.register(data.devReplies);
  }

  setTraining(on: boolean): void {
    this.module.train(on);
    if (on) this.module.encoders().forEach((e, i) => frozenToEval(e, this.plans[i]!));
  }

  loss(rows: Int32Array): Tensor {
    const m = this.runners.message.run(this.data.trainMessages, rows);
    const r = this.runners.reply.run(this.data.trainReplies, rows);
    return this.module.inBatchLoss(this.module.vectors(m.last, m.batch.attentionMask), this.module.vectors(r.last, r.batch.attentionMask));
  }

  evaluate(): Metrics {
    const H = this.module.messageEncoder.config.hiddenSize;
    const u = sideVectors(this.module, 'message', this.data.devMessages, this.evalBatchSize, this.runners.message.encodeRows);
    const v = sideVectors(this.module, 'reply', this.data.devReplies, this.evalBatchSize, this.runners.reply.encodeRows);
    const { recall_at_1, recall_at_5, mrr, n } = oneOfNRetrieval(u, v, H, { seed: this.seed });
    return { recall_at_1, recall_at_5, mrr, n };
  }

  taskModel(): TaskModel {
    return { task: 'reply', model: this.module, responses: this.data.responses, tokenizer: this.tokenizer, maxLength: this.maxLength };
  }

  cacheStats(): CacheStats | undefined {
    const a = this.runners.message.cache?.stats();
    const b = this.runners.reply.cache;
    // Separate encoders have separate caches: report them summed.
    if (!a || !b || b === this.runners.message.cache) return a;
    const s = b.stats();
    return {
      entries: a.entries + s.entries, bytes: a.bytes + s.bytes, budgetBytes: a.budgetBytes + s.budgetBytes, hits: a.hits + s.hits, computed: a.computed + s.computed,
      notStored: a.notStored + s.notStored, prefixSeconds: a.prefixSeconds + s.prefixSeconds, savedSeconds: a.savedSeconds + s.savedSeconds,
    };
  }

  warmCache(batches: readonly Int32Array[]): void {
    for (const rows of batches) {
      this.runners.message.warm(this.data.trainMessages, rows);
      this.runners.reply.warm(this.data.trainReplies, rows);
    }
  }
}
