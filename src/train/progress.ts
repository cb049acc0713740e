/**
 * Training progress on stderr: one cli-progress bar per epoch with the running mean loss and
 * examples per second. When stderr is not a terminal (a log file, CI), where cli-progress draws
 * nothing, one plain line every LINE_SECONDS instead, so a long job in a log still shows progress.
 */
import cliProgress from 'cli-progress';

export interface ProgressSink {
  startEpoch(epoch: number, epochs: number, batches: number, done: number): void;
  step(done: number, loss: number, examplesPerSecond: number): void;
  endEpoch(): void;
}

export const silentProgress: ProgressSink = { startEpoch() {}, step() {}, endEpoch() {} };

export function stderrProgress(): ProgressSink {
  if (!process.stderr.isTTY) return lineProgress();
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

/** Seconds between progress lines when stderr is not a terminal. */
export const LINE_SECONDS = 30;

/** Plain progress lines (no cursor control) every `everySeconds`, for logs. */
export function lineProgress(everySeconds = LINE_SECONDS, write: (l: string) => void = (l) => process.stderr.write(`${l}\n`)): ProgressSink {
  let epochLabel = '';
  let total = 0;
  let last = 0;
  return {
    startEpoch(epoch, epochs, batches) {
      epochLabel = `epoch ${epoch + 1}/${epochs}`;
      total = batches;
      last = performance.now();
    },
    step(done, loss, rate) {
      const now = performance.now();
      if (now - last < everySeconds * 1000) return;
      last = now;
      write(`${epochLabel}: ${done}/${total} batches, loss ${loss.toFixed(4)}, ${rate.toFixed(0)} ex/s`);
    },
    endEpoch() {},
  };
}
