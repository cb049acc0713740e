/**
 * Training progress on stderr: one cli-progress bar per epoch with the running mean loss and
 * examples per second. cli-progress draws nothing when stderr is not a terminal (logs, tests).
 */
import cliProgress from 'cli-progress';

export interface ProgressSink {
  startEpoch(epoch: number, epochs: number, batches: number, done: number): void;
  step(done: number, loss: number, examplesPerSecond: number): void;
  endEpoch(): void;
}

export const silentProgress: ProgressSink = { startEpoch() {}, step() {}, endEpoch() {} };

export function stderrProgress(): ProgressSink {
  let bar: cliProgress.SingleBar | undefined;
  return {
    startEpoch(epoch, epochs, batches, done) {
      bar = new cliProgress.SingleBar(
        { format: 'epoch {epoch}/{epochs} |{bar}| {value}/{total} batches | loss {loss} | {rate} ex/s | eta {eta_formatted}', stream: process.stderr, hideCursor: null },
        cliProgress.Presets.shades_classic,
      );
      bar.start(batches, done, { epoch: epoch + 1, epochs, loss: '-', rate: '-' });
    },
    step(done, loss, rate) {
      bar?.update(done, { loss: loss.toFixed(4), rate: rate.toFixed(0) });
    },
    endEpoch() {
      bar?.stop();
      bar = undefined;
    },
  };
}
