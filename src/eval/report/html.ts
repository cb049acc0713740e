/**
 * A report as one static HTML file: every chart an inline SVG drawn at report time, the tables as
 * HTML tables, the styles inline. No scripts, no fonts, no images from anywhere: a
 * Content-Security-Policy of default-src 'none' makes the browser refuse any load, so the file
 * opens the same from disk, from a server or from an e-mail attachment.
 */
import type { Chart, ReportData, Table } from './data.js';
import { renderSvg } from './render.js';
import { chartSpec } from './specs.js';

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 1100px; padding: 24px 28px 60px; color: #1d1d1f; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 0 0 4px; }
.sub, .caption, .made, footer { color: #555; }
.caption { margin: 0 0 10px; max-width: 820px; }
section.chart { margin: 28px 0; padding-top: 16px; border-top: 1px solid #e5e5e5; }
figure { margin: 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f4f4f5; padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 8px 0 20px; font-size: 13px; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 4px 10px 4px 0; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
ul.notes { color: #555; }
`;

export async function reportHtml(report: ReportData): Promise<string> {
  const sections: string[] = [];
  for (const c of report.charts) sections.push(await chartSection(c));
  const tables = report.tables.map(tableSection).join('\n');
  const notes = report.notes.length ? `<section class="notes"><h2>Notes</h2><ul class="notes">${report.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></section>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="slimtext report">
<title>${esc(report.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(report.title)}</h1>
<p class="sub">${esc(report.subtitle)}</p>
<p class="made">Made by <code>${esc(report.command)}</code> on ${esc(report.created.slice(0, 16).replace('T', ' '))} UTC (${report.machine.cpus} cores, ${esc(report.machine.backend)} backend). The same data: add <code>--json</code>.</p>
</header>
${sections.join('\n')}
${tables}
${notes}
<footer><p>slimtext report, format ${report.version}.</p></footer>
</body>
</html>
`;
}

async function chartSection(c: Chart): Promise<string> {
  const svg = await renderSvg(chartSpec(c));
  return `<section class="chart" id="chart-${esc(c.id)}" data-kind="${esc(c.kind)}">
<h2>${esc(c.title)}</h2>
<p class="caption">${esc(c.caption)}</p>
<figure>${svg}</figure>
</section>`;
}

function tableSection(t: Table): string {
  const head = t.columns.map((c) => `<th>${esc(c)}</th>`).join('');
  const body = t.rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n');
  return `<section class="table" id="table-${esc(t.id)}"><h2>${esc(t.title)}</h2><table><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table></section>`;
}

function cell(v: string | number | null): string {
  if (v === null) return '<td>-</td>';
  if (typeof v === 'number') return `<td class="num">${esc(v.toLocaleString('en-US', { maximumFractionDigits: 4 }))}</td>`;
  return /^(slimtext|npx|node) /.test(v) ? `<td><code>${esc(v)}</code></td>` : `<td>${esc(v)}</td>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
