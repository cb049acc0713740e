/**
 * Child process of the "killed mid-run" labelling test: labels a corpus slowly with the synthetic
 * teacher until the parent kills it. Does nothing unless started with the marker argument (the
 * compiled test run also loads every file under dist/test/).
 */
import { labelCorpus } from '../../../src/train/distill/teacherLabels.js';
import { countingRunner } from './fixtures.js';

const [marker, corpus, out] = process.argv.slice(2);
if (marker === '--distill-label-child' && corpus && out) {
  await labelCorpus({ teacher: countingRunner(15), corpus: [corpus], out, batchSize: 4, chunkRows: 8 });
}
