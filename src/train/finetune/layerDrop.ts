/**
 * Layer dropping: remove encoder layers before fine-tuning (Sajjad et al., "On the effect of
 * dropping layers of pre-trained transformer models"). The kept layers keep their weights and
 * order and are renumbered, so the fine-tuned model is a plain shallower BERT: smaller on disk and
 * faster at inference, with no trace of the dropped layers.
 *
 *   top:K       drop the K layers nearest the output
 *   bottom:K    drop the K layers nearest the embeddings
 *   alternate   drop every other layer, starting with the second (keeps 0, 2, 4, ...)
 *   1,3         drop the layers with these 0-based indices
 *   none        drop nothing
 */
import { OptionError } from '../../errors.js';
import type { BertModel } from '../../models/bert/model.js';

/** The sorted 0-based indices of the layers `spec` drops from a stack of `numLayers`. */
export function parseDropSpec(spec: string, numLayers: number): number[] {
  const s = spec.trim().toLowerCase();
  const fail = (why: string): never => {
    throw new OptionError(`--drop-layers '${spec}': ${why} (expected top:K, bottom:K, alternate, none, or indices like 1,3; the model has ${numLayers} layers)`);
  };
  if (s === '' || s === 'none') return [];
  if (s === 'alternate') return range(numLayers).filter((i) => i % 2 === 1);
  const m = /^(top|bottom):(\d+)$/.exec(s);
  if (m) {
    const k = Number(m[2]);
    if (k >= numLayers) fail(`dropping ${k} layers leaves none`);
    return m[1] === 'top' ? range(numLayers).slice(numLayers - k) : range(k);
  }
  if (!/^\d+(\s*,\s*\d+)*$/.test(s)) fail('not a layer spec');
  const idx = [...new Set(s.split(',').map((x) => Number(x.trim())))].sort((a, b) => a - b);
  const out = idx.filter((i) => i >= numLayers);
  if (out.length) fail(`layer ${out[0]} does not exist`);
  if (idx.length >= numLayers) fail('that drops every layer');
  return idx;
}

/**
 * Removes the given layers from the encoder in place (indices as parseDropSpec returns them) and
 * returns the original indices of the layers that remain, in order.
 */
export function dropLayers(model: BertModel, drop: readonly number[]): number[] {
  const layers = model.encoder.layer;
  const gone = new Set(drop);
  const kept = range(layers.length).filter((i) => !gone.has(i));
  const keptLayers = kept.map((i) => layers[i]!);
  layers.splice(0, layers.length, ...keptLayers);
  return kept;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
