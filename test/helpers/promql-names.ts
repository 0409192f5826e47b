/** The metric names a PromQL expression reads, and whether a /metrics text exports them (for dashboards and alert rules). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'atan2']);
/** Series Prometheus makes itself for every target; no exporter has them. */
export const SYNTHETIC = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'ALERTS', 'ALERTS_FOR_STATE']);

/**
 * Metric names in `expr`: identifiers outside strings, label matchers, ranges and grouping clauses that are not
 * followed by `(` (a function or aggregation) and are not keywords or numbers.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*(?!\w)/g)) {
    const rest = stripped.slice(m.index + m[0].length);
    if (/^\s*\(/.test(rest) || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** The metric families a /metrics text declares (`# TYPE name kind`). */
export function declaredFamilies(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/** True when `name` is a declared family, a histogram's or summary's `_bucket`/`_sum`/`_count`, or synthetic. */
export function isExported(name: string, families: Map<string, string>): boolean {
  if (SYNTHETIC.has(name) || families.has(name)) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!m) return false;
  const kind = families.get(m[1]!);
  return kind === 'histogram' || (kind === 'summary' && m[2] !== 'bucket');
}

/** Every `expr` of the alerting and recording rules in a Prometheus rule file. */
export function ruleExpressions(file: string): string[] {
  const doc = parse(readFileSync(file, 'utf8')) as { groups: { rules: { expr: string }[] }[] };
  return doc.groups.flatMap((g) => g.rules.map((r) => r.expr));
}

export const ALERTS_FILE = join(import.meta.dirname, '../../deploy/prometheus/alerts.yaml');
