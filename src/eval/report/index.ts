/**
 * `slimtext report` as a library: the data of a report (models.ts for model folders, bench.ts for
 * a bench's JSON), drawn as one self-contained HTML file (html.ts) or written as JSON.
 */
import { writeFileAtomic } from '../../io/atomic.js';
import type { ReportData } from './data.js';
import { reportHtml } from './html.js';
import { checkOutputPath } from '../../io/outputPath.js';

export { buildModelReport, type ModelReportOptions } from './models.js';
export { buildBenchReport, benchKind, type BenchReportOptions } from './bench.js';
export { reportHtml } from './html.js';
export { chartSpec } from './specs.js';
export { ADAPTERS, type Adapter, type ReportModel } from './adapters.js';
export * from './data.js';

/** Writes the report as HTML (or JSON), atomically; an existing file is refused unless `overwrite`. */
export async function writeReport(path: string, report: ReportData, opts: { json?: boolean; overwrite?: boolean } = {}): Promise<void> {
  checkOutputPath(path, { kind: 'file', overwrite: opts.overwrite });
  await writeFileAtomic(path, opts.json ? `${JSON.stringify(report, null, 2)}\n` : await reportHtml(report));
}

/** The platform's command to open a file in the browser (printed after a report is written). */
export function openCommand(path: string): string {
  const q = /[\s'"]/.test(path) ? `"${path}"` : path;
  return process.platform === 'darwin' ? `open ${q}` : process.platform === 'win32' ? `start "" ${q}` : `xdg-open ${q}`;
}
