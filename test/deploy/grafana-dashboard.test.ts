/** deploy/grafana/capstan.json is what deploy/grafana/dashboard.ts renders, and is a well-formed Grafana dashboard. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { dashboardExpressions, renderDashboard, ROWS } from '../../deploy/grafana/dashboard.ts';
import { metricNames } from '../helpers/promql-names.ts';

const file = join(import.meta.dirname, '../../deploy/grafana/capstan.json');

it('the committed JSON is the rendering of its source (run bun scripts/grafana-dashboard.ts after editing the source)', () => {
  expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(renderDashboard());
});

it('has the rows the issue asks for, unique panel ids, panels that do not overlap, and a query in every panel', () => {
  const d = renderDashboard() as { panels: { id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number }; targets?: { expr: string }[] }[] };
  expect(ROWS.map((r) => r.title)).toEqual(expect.arrayContaining(['HTTP', 'Queues', 'Bus and outbox', 'Leases and roles', 'Workflow']));
  expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
  const cells = new Set<string>();
  for (const p of d.panels) {
    expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
      for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
        expect(cells.has(`${x},${y}`), `${p.title} overlaps another panel`).toBe(false);
        cells.add(`${x},${y}`);
      }
    if (p.type !== 'row') expect(p.targets?.length, p.title).toBeGreaterThan(0);
  }
  // Each expression filters by the dashboard's job and instance variables and names at least one metric.
  for (const expr of dashboardExpressions()) {
    expect(expr).toContain('job=~"$job", instance=~"$instance"');
    expect(metricNames(expr).length, expr).toBeGreaterThan(0);
  }
});
