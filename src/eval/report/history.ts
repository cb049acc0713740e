/**
 * A model's training curve (loss and dev metric per epoch) from what its training wrote beside it:
 * `train_log.json` (slimtext finetune), `distill_log.json` (slimtext distill), or a `history` list
 * in the manifest's metrics (for model kinds that keep it there). A model with none of these gets
 * no curve, and the report says so; it still gets its other charts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BundleManifest } from '../../io/bundle.js';
import type { CurveRow } from './data.js';

export interface History {
  /** The file the curve came from. */
  source: string;
  rows: CurveRow[];
  /** Training time summed over epochs, when the log records it. */
  trainSeconds?: number;
}

/** One epoch as any log records it. */
interface Epoch {
  phase: string;
  loss: number;
  /** [name, value] of the dev metric, when there was dev data. */
  dev?: [string, number];
  seconds?: number;
}

/** Readers in order of preference: file name -> epochs. */
const READERS: readonly { file: string; read: (log: Record<string, unknown>) => Epoch[] }[] = [
  {
    file: 'train_log.json',
    read: (log) => list(log.epochs).map((e) => {
      const dev = (e.dev ?? {}) as Record<string, unknown>;
      const metric = ['accuracy', 'recall_at_1', 'mrr'].find((k) => typeof dev[k] === 'number');
      return { phase: 'finetune', loss: Number(e.train_loss), ...(metric ? { dev: [`dev ${metric}`, dev[metric] as number] as [string, number] } : {}), seconds: num(e.train_seconds) };
    }),
  },
  {
    file: 'distill_log.json',
    read: (log) => list(log.epochs).map((e) => ({
      phase: String(e.phase ?? 'distill'), loss: Number(e.loss),
      ...(typeof e.dev_accuracy === 'number' ? { dev: ['dev accuracy', e.dev_accuracy] as [string, number] } : {}), seconds: num(e.train_seconds),
    })),
  },
];

export function readHistory(dir: string, manifest: BundleManifest, model: string): History | undefined {
  const inManifest = list(manifest.metrics.history);
  if (inManifest.length) {
    const epochs = inManifest.map((e) => ({
      phase: String(e.phase ?? 'train'), loss: Number(e.loss),
      ...(typeof e.dev_metric === 'number' ? { dev: [`dev ${String(e.dev_metric_name ?? 'metric')}`, e.dev_metric] as [string, number] } : {}), seconds: num(e.train_seconds),
    }));
    return toHistory(`${join(dir, 'slimtext.json')} (metrics.history)`, epochs, model);
  }
  for (const r of READERS) {
    const path = join(dir, r.file);
    if (!existsSync(path)) continue;
    let log: unknown;
    try {
      log = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      continue; // a log torn by hand is no reason to refuse the report: the model just gets no curve
    }
    const epochs = r.read((log ?? {}) as Record<string, unknown>).filter((e) => Number.isFinite(e.loss));
    if (epochs.length) return toHistory(path, epochs, model);
  }
  return undefined;
}

function toHistory(source: string, epochs: Epoch[], model: string): History {
  const rows: CurveRow[] = [];
  epochs.forEach((e, i) => {
    rows.push({ model, phase: e.phase, epoch: i + 1, series: 'loss', value: e.loss });
    if (e.dev) rows.push({ model, phase: e.phase, epoch: i + 1, series: e.dev[0], value: e.dev[1] });
  });
  const secs = epochs.map((e) => e.seconds);
  const trainSeconds = secs.every((s) => s !== undefined) ? Math.round(secs.reduce((a, b) => a! + b!, 0)! * 10) / 10 : undefined;
  return { source, rows, ...(trainSeconds !== undefined ? { trainSeconds } : {}) };
}

function list(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null) : [];
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
