/** Renders benchmark rows as a fixed-width console table and as a Markdown table. */
import { metOf, ratioOf, type BenchRow } from './row.ts';
import { formatNumber } from './stats.ts';

const HEAD = ['benchmark', 'kernel', 'baseline', 'ratio', 'goal', 'met?'];

function cells(row: BenchRow): string[] {
  const ratio = ratioOf(row);
  return [
    row.name,
    `${formatNumber(row.kernel)} ${row.unit}`,
    row.baseline === undefined ? '—' : `${formatNumber(row.baseline)} ${row.unit}`,
    Number.isFinite(ratio) ? ratio.toFixed(2) : '—',
    row.goalRatio === undefined ? '—' : `≥ ${row.goalRatio}`,
    metOf(row),
  ];
}

/** The table as aligned plain text. */
export function textTable(rows: readonly BenchRow[]): string {
  const all = [HEAD, ...rows.map(cells)];
  const widths = HEAD.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(HEAD), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(0).map((r) => line(cells(r)))].join('\n');
}

/** The table in GitHub Markdown. */
export function markdownTable(rows: readonly BenchRow[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [`| ${HEAD.join(' | ')} |`, '| --- | ---: | ---: | ---: | ---: | :---: |', ...rows.map((r) => `| ${cells(r).map(esc).join(' | ')} |`)].join('\n');
}

/** Prints the plain-text table on stdout. */
export function printTable(rows: readonly BenchRow[]): void {
  process.stdout.write(`${textTable(rows)}\n`);
}
