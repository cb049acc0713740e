/**
 * Layer freezing: the embeddings and/or the bottom K encoder layers get requiresGrad = false, so
 * the tape records nothing for them (no gradient buffers, no weight-gradient products, no optimiser
 * state). Frozen parts also run without dropout: they are feature extractors now, and
 * deterministic features are what lets a frozen prefix (embeddings + bottom K layers, when the
 * embeddings are frozen too) be computed once and cached (see prefixCache.ts).
 */
import { OptionError } from '../errors.js';
import type { BertModel } from '../models/bert/model.js';

export interface FreezeOptions {
  /** Freeze the embedding tables and their LayerNorm. */
  embeddings?: boolean;
  /** Freeze the bottom K encoder layers (after any dropping). */
  layers?: number;
}

export interface FreezePlan {
  embeddings: boolean;
  layers: number;
  /**
   * Layers [0, prefixLayers) plus the embeddings form a frozen, dropout-free prefix whose output
   * needs no gradient: it can run under noGrad and be cached. -1 when the embeddings train (then
   * nothing can be skipped: gradients must flow down through any frozen layer to them).
   */
  prefixLayers: number;
  frozenParameters: number;
  trainableParameters: number;
}

/** Freezes parts of one encoder; returns what was frozen. */
export function freezeEncoder(model: BertModel, opts: FreezeOptions): FreezePlan {
  const k = opts.layers ?? 0;
  const n = model.encoder.layer.length;
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new OptionError(`--freeze-layers ${k}: the encoder has ${n} layers (after dropping), so K must be in 0..${n}`);
  }
  const embeddings = opts.embeddings ?? false;
  if (embeddings) model.embeddings.freeze();
  for (let i = 0; i < k; i++) model.encoder.layer[i]!.freeze();
  return {
    embeddings,
    layers: k,
    prefixLayers: embeddings ? k : -1,
    frozenParameters: model.parameterCount() - model.parameterCount(true),
    trainableParameters: model.parameterCount(true),
  };
}

/**
 * Puts the frozen parts back in eval mode (no dropout) after a `train()` call switched everything
 * to training mode.
 */
export function frozenToEval(model: BertModel, plan: FreezePlan): void {
  if (plan.embeddings) model.embeddings.eval();
  for (let i = 0; i < plan.layers; i++) model.encoder.layer[i]!.eval();
}
