/**
 * The source of deploy/grafana/capstan.json: rows of panels, each a few PromQL expressions over the metric names
 * Capstan exports. `bun scripts/grafana-dashboard.ts` writes the JSON; test/deploy/grafana-dashboard.test.ts fails when
 * the file drifts from this source, and test/e2e/metrics-promtool.test.ts checks every metric named here against a
 * real /metrics after real work. A module adds a row at the end of ROWS.
 */

/** One panel: a title, a unit Grafana knows, and its queries (`$job`/`$instance` are the dashboard's variables). */
export interface PanelSource {
  title: string;
  description: string;
  unit: string;
  kind?: 'timeseries' | 'stat';
  targets: { expr: string; legend: string }[];
}

/** A collapsible row of panels. */
export interface RowSource {
  title: string;
  panels: PanelSource[];
}

/** The label filter every query carries, so the dashboard shows one deployment (or one instance) at a time. */
const SEL = 'job=~"$job", instance=~"$instance"';
const sel = (extra?: string) => `{${extra ? `${extra}, ` : ''}${SEL}}`;
const RI = '$__rate_interval';

export const ROWS: RowSource[] = [
  {
    title: 'Overview',
    panels: [
      { title: 'Instances up', description: 'Scrape targets answering /metrics', unit: 'short', kind: 'stat', targets: [{ expr: `sum(up${sel()})`, legend: 'up' }] },
      { title: 'Dependencies not ready', description: 'Readiness checks failing now (0 is healthy), by dependency', unit: 'short', kind: 'stat', targets: [{ expr: `sum(1 - dependency_up${sel()}) or vector(0)`, legend: 'not ready' }] },
      { title: 'Dependency check latency', description: 'How long each dependency took to answer its readiness check', unit: 's', targets: [{ expr: `max by (dependency) (dependency_latency_seconds${sel()})`, legend: '{{dependency}}' }] },
      { title: 'Process memory', description: 'Resident memory per instance', unit: 'bytes', targets: [{ expr: `process_resident_memory_bytes${sel()}`, legend: '{{instance}}' }] },
    ],
  },
  {
    title: 'HTTP',
    panels: [
      { title: 'Requests per second by status', description: 'All routes', unit: 'reqps', targets: [{ expr: `sum by (status) (rate(http_request_duration_seconds_count${sel()}[${RI}]))`, legend: '{{status}}' }] },
      { title: 'Error ratio (5xx)', description: 'Share of requests answered 5xx; the CapstanHttpErrorRate alert fires above 5%', unit: 'percentunit', targets: [{ expr: `sum(rate(http_request_duration_seconds_count${sel('status=~"5.."')}[${RI}])) / sum(rate(http_request_duration_seconds_count${sel()}[${RI}]))`, legend: '5xx' }] },
      { title: 'Latency p95 by route', description: '95th percentile of request duration', unit: 's', targets: [{ expr: `histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket${sel()}[${RI}])))`, legend: '{{route}}' }] },
    ],
  },
  {
    title: 'Queues',
    panels: [
      { title: 'Jobs by state', description: 'Waiting, delayed and active jobs per queue, read from the queue backend', unit: 'short', targets: [{ expr: `max by (queue, state) (queue_jobs${sel('state=~"waiting|delayed|active"')})`, legend: '{{queue}} {{state}}' }] },
      { title: 'Jobs completed and failed per second', description: 'Failed counts every failed attempt', unit: 'ops', targets: [
        { expr: `sum by (queue) (rate(queue_jobs_completed_total${sel()}[${RI}]))`, legend: '{{queue}} completed' },
        { expr: `sum by (queue) (rate(queue_jobs_failed_total${sel()}[${RI}]))`, legend: '{{queue}} failed' },
      ] },
    ],
  },
  {
    title: 'Bus and outbox',
    panels: [
      { title: 'Events per second', description: 'Published and delivered, by type prefix', unit: 'ops', targets: [
        { expr: `sum by (type) (rate(bus_published_total${sel()}[${RI}]))`, legend: 'published {{type}}' },
        { expr: `sum by (type) (rate(bus_delivered_total${sel()}[${RI}]))`, legend: 'delivered {{type}}' },
      ] },
      { title: 'Outbox backlog', description: 'Events committed but not yet published (deployment-wide)', unit: 'short', targets: [{ expr: `max(outbox_pending_events${sel()})`, legend: 'pending' }] },
      { title: 'Oldest outbox event', description: 'Age of the oldest unpublished event; CapstanOutboxLag fires above 60 s', unit: 's', targets: [{ expr: `max(outbox_oldest_event_age_seconds${sel()})`, legend: 'age' }] },
      { title: 'Outbox relayed per second', description: 'Events the relay published, and the instance holding the relay', unit: 'ops', targets: [
        { expr: `sum(rate(outbox_relayed_total${sel()}[${RI}]))`, legend: 'relayed' },
        { expr: `sum(rate(outbox_dropped_total${sel()}[${RI}]))`, legend: 'dropped' },
        { expr: `outbox_relay_leader${sel()} == 1`, legend: 'leader {{instance}}' },
      ] },
    ],
  },
  {
    title: 'Leases and roles',
    panels: [
      { title: 'Roles held', description: 'Roles (and shards of role sets) each instance holds', unit: 'short', targets: [{ expr: `sum by (instance, set) (roles_held${sel()})`, legend: '{{instance}} {{set}}' }] },
      { title: 'Role changes per minute', description: 'Acquired and lost; losses that keep coming are the CapstanLeaseFlapping alert', unit: 'short', targets: [
        { expr: `sum by (set) (increase(roles_acquired_total${sel()}[1m]))`, legend: 'acquired {{set}}' },
        { expr: `sum by (set) (increase(roles_lost_total${sel()}[1m]))`, legend: 'lost {{set}}' },
      ] },
      { title: 'Members', description: 'Live members as each instance sees them', unit: 'short', targets: [{ expr: `roles_members${sel()}`, legend: '{{instance}}' }] },
    ],
  },
  {
    title: 'Workflow',
    panels: [
      { title: 'Run state changes per second', description: 'By target run state', unit: 'ops', targets: [{ expr: `sum by (to) (rate(workflow_run_state_changes_total${sel()}[${RI}]))`, legend: '{{to}}' }] },
      { title: 'Step latency p95', description: 'Time to handle one event, step included', unit: 's', targets: [{ expr: `histogram_quantile(0.95, sum by (le, workflow) (rate(workflow_process_latency_seconds_bucket${sel()}[${RI}])))`, legend: '{{workflow}}' }] },
      { title: 'Step errors per second', description: 'Failed step attempts', unit: 'ops', targets: [{ expr: `sum by (workflow, process) (rate(workflow_process_errors_total${sel()}[${RI}]))`, legend: '{{workflow}} {{process}}' }] },
      { title: 'Consumer lag', description: 'Age of the last event each consumer handled', unit: 's', targets: [{ expr: `max by (workflow, process) (workflow_process_lag_seconds${sel()})`, legend: '{{workflow}} {{process}}' }] },
    ],
  },
  {
    title: 'LLM',
    panels: [
      { title: 'Calls per second by outcome', description: 'By provider and model', unit: 'ops', targets: [{ expr: `sum by (provider, model, outcome) (rate(llm_calls_total${sel()}[${RI}]))`, legend: '{{provider}} {{model}} {{outcome}}' }] },
      { title: 'Tokens per second', description: 'Input and output tokens', unit: 'short', targets: [{ expr: `sum by (model, direction) (rate(llm_tokens_total${sel()}[${RI}]))`, legend: '{{model}} {{direction}}' }] },
      { title: 'Open circuits', description: 'Provider/model pairs whose breaker is open (2)', unit: 'short', targets: [{ expr: `count(llm_circuit_state${sel()} == 2) or vector(0)`, legend: 'open' }] },
      { title: 'Cost per hour', description: 'From the configured price table, by model', unit: 'currencyUSD', targets: [{ expr: `sum by (model) (increase(llm_cost_total${sel()}[1h]))`, legend: '{{model}}' }] },
    ],
  },
  {
    title: 'Breeder',
    panels: [
      { title: 'Trials per minute by outcome', description: 'complete, fail (abandoned included) and pruned, by breeder', unit: 'short', targets: [{ expr: `sum by (breeder, state) (increase(breeder_trials_total${sel()}[1m]))`, legend: '{{breeder}} {{state}}' }] },
      { title: 'Trial phase p95', description: 'Time per phase of a trial: sample, effectuate, settle, reconnoiter', unit: 's', targets: [{ expr: `histogram_quantile(0.95, sum by (le, phase) (rate(breeder_trial_phase_seconds_bucket${sel()}[${RI}])))`, legend: '{{phase}}' }] },
      { title: 'Best value', description: 'Best value so far per objective of single-objective breeders', unit: 'short', targets: [{ expr: `max by (breeder, objective) (breeder_best_value${sel()})`, legend: '{{breeder}} {{objective}}' }] },
    ],
  },
  {
    title: 'Cascades',
    panels: [
      { title: 'Sessions by status', description: 'Deployment-wide, read from the database', unit: 'short', targets: [{ expr: `max by (status) (cascades_sessions${sel()})`, legend: '{{status}}' }] },
      { title: 'Cost per hour by cascade', description: 'From the LLM price table', unit: 'currencyUSD', targets: [{ expr: `sum by (cascade) (increase(cascades_llm_cost_total${sel()}[1h]))`, legend: '{{cascade}}' }] },
      { title: 'Orphan recoveries per minute', description: 'Sessions whose worker stopped heartbeating, taken over by another, by outcome', unit: 'short', targets: [{ expr: `sum by (outcome) (increase(cascades_orphan_recoveries_total${sel()}[1m]))`, legend: '{{outcome}}' }] },
    ],
  },
  {
    title: 'Agents',
    panels: [
      { title: 'Agents running', description: 'Per instance', unit: 'short', targets: [{ expr: `sum by (instance) (agents_running${sel()})`, legend: '{{instance}}' }] },
      { title: 'Agents ended per minute', description: 'By final status', unit: 'short', targets: [{ expr: `sum by (status) (increase(agents_ended_total${sel()}[1m]))`, legend: '{{status}}' }] },
      { title: 'Safety refusals per minute', description: 'Tool calls refused by a safety rule, by rule', unit: 'short', targets: [{ expr: `sum by (rule) (increase(agents_safety_refusals_total${sel()}[1m]))`, legend: '{{rule}}' }] },
    ],
  },
];

const PANEL_WIDTH = 8;
const PANEL_HEIGHT = 8;

/** The Grafana dashboard JSON (schema 39) for ROWS: a Prometheus data source variable, job and instance filters. */
export function renderDashboard(rows: readonly RowSource[] = ROWS): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    row.panels.forEach((p, i) => {
      const x = (i % 3) * PANEL_WIDTH;
      const py = y + Math.floor(i / 3) * PANEL_HEIGHT;
      panels.push({
        id: id++,
        type: p.kind ?? 'timeseries',
        title: p.title,
        description: p.description,
        datasource: { type: 'prometheus', uid: '${datasource}' },
        gridPos: { h: PANEL_HEIGHT, w: PANEL_WIDTH, x, y: py },
        fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
        options: p.kind === 'stat' ? { reduceOptions: { calcs: ['lastNotNull'] } } : { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
        targets: p.targets.map((t, j) => ({ refId: String.fromCharCode(65 + j), datasource: { type: 'prometheus', uid: '${datasource}' }, expr: t.expr, legendFormat: t.legend })),
      });
    });
    y += Math.ceil(row.panels.length / 3) * PANEL_HEIGHT;
  }
  const query = (name: string, label: string, q: string) => ({
    name,
    label,
    type: 'query',
    datasource: { type: 'prometheus', uid: '${datasource}' },
    query: { query: q, refId: name },
    definition: q,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { text: 'All', value: '$__all' },
    refresh: 2,
    sort: 1,
  });
  return {
    uid: 'capstan',
    title: 'Capstan',
    description: 'HTTP, queues, bus and outbox, leases and roles, workflow, LLM. Generated from deploy/grafana/dashboard.ts.',
    tags: ['capstan'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {} },
        query('job', 'Job', 'label_values(up{job=~"capstan.*"}, job)'),
        query('instance', 'Instance', 'label_values(up{job=~"$job"}, instance)'),
      ],
    },
    annotations: { list: [] },
    panels,
  };
}

/** All PromQL expressions of the dashboard (panels and variables), for the metric-name check. */
export function dashboardExpressions(rows: readonly RowSource[] = ROWS): string[] {
  return rows.flatMap((r) => r.panels.flatMap((p) => p.targets.map((t) => t.expr)));
}
