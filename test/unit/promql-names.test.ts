/** The metric-name extraction the dashboard and alert checks rely on: if it missed names, those checks would pass vacuously. */
import { expect, it } from 'vitest';
import { declaredFamilies, isExported, metricNames } from '../helpers/promql-names.ts';

it('finds the metrics of an expression and skips functions, aggregations, grouping labels, matchers and ranges', () => {
  expect(metricNames('histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{job=~"$job", status=~"5.."}[$__rate_interval])))')).toEqual(['http_request_duration_seconds_bucket']);
  expect(metricNames('sum by (queue) (rate(a_total[10m])) / (sum by (queue) (rate(b_total[10m])) + on (queue) group_left c) > 0.25')).toEqual(['a_total', 'b_total', 'c']);
  expect(metricNames('sum(1 - dependency_up{x="y"}) or vector(0)')).toEqual(['dependency_up']);
  expect(metricNames('max(x) > 1e3 and y offset 5m unless z == bool 1')).toEqual(['x', 'y', 'z']);
  expect(metricNames('count(llm_circuit_state{a="b"} == 2)')).toEqual(['llm_circuit_state']);
});

it('counts a histogram\'s series as exported through its family, and nothing undeclared', () => {
  const families = declaredFamilies('# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 0\n# TYPE g gauge\ng 1\n');
  expect(isExported('h_bucket', families)).toBe(true);
  expect(isExported('h_count', families)).toBe(true);
  expect(isExported('g', families)).toBe(true);
  expect(isExported('g_count', families)).toBe(false);
  expect(isExported('missing_total', families)).toBe(false);
  expect(isExported('up', families)).toBe(true);
});
