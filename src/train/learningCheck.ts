/**
 * Says when a run is not learning, with the likely fixes, instead of ending quietly at chance: the
 * dev accuracy after an epoch no better than always answering the most frequent dev label, or the
 * training loss not falling from one epoch to the next. Shared by every technique's trainer loop.
 */

/** Accuracy of always answering the most frequent label (the floor a classifier must beat). */
export function chanceAccuracy(labels: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  let best = 0;
  for (let i = 0; i < labels.length; i++) {
    const c = (counts.get(labels[i]!) ?? 0) + 1;
    counts.set(labels[i]!, c);
    if (c > best) best = c;
  }
  return labels.length ? best / labels.length : 0;
}

export interface LearningCheck {
  /** Call after each epoch; returns a warning line (once per kind) or undefined. */
  afterEpoch(epoch: number, trainLoss: number, devAccuracy: number | undefined): string | undefined;
}

/** `fixes`: what to try, in the words of the command (e.g. "--lr 5e-4 --pooling mean"). */
export function learningCheck(chance: number | undefined, fixes: string): LearningCheck {
  let firstLoss: number | undefined;
  let saidChance = false;
  let saidLoss = false;
  return {
    afterEpoch(epoch, loss, acc) {
      firstLoss ??= loss;
      if (!Number.isFinite(loss)) return `warning: the training loss is ${loss} after epoch ${epoch + 1}: training diverged; try a lower --lr`;
      if (!saidChance && chance !== undefined && acc !== undefined && acc <= chance + 0.01) {
        saidChance = true;
        return `warning: not learning: dev accuracy ${acc.toFixed(4)} after epoch ${epoch + 1} is at chance (always answering the most frequent label scores ${chance.toFixed(4)}); likely fixes: ${fixes}`;
      }
      if (!saidLoss && epoch >= 1 && loss >= firstLoss * 0.98) {
        saidLoss = true;
        return `warning: not learning: the training loss ${loss.toFixed(4)} after epoch ${epoch + 1} has not fallen from ${firstLoss.toFixed(4)} after epoch 1; likely fixes: ${fixes}`;
      }
      return undefined;
    },
  };
}
