/**
 * Diagram benchmark: what drawing the definition on the run page costs. Kernel: the run page with the drawn diagram
 * (compile, layered layout, SVG); baseline: the same page as it was before, with the Mermaid text instead. CPU only.
 */
import { compileDefinition, parseDefinition, toMermaid } from '../src/modules/workflow/definition/index.ts';
import type { RunRecord } from '../src/modules/workflow/model/run.ts';
import type { HistoryEntry, StoredDefinition } from '../src/modules/workflow/store/index.ts';
import { viewOf } from '../src/modules/workflow/ui/definition-view.ts';
import { RunPage } from '../src/modules/workflow/ui/run-page.tsx';
import { alternate } from './lib/rounds.ts';
import { progress, type BenchRow } from './lib/row.ts';
import { formatPairedRatios, formatRounds, median } from './lib/stats.ts';

const ROUNDS = 5;
const PAGES_PER_ROUND = 40;

/** How this benchmark measures, for RESULTS.md. */
export const DIAGRAM_METHOD = [
  `renders the run page body to a string ${PAGES_PER_ROUND} times per round, ${ROUNDS} alternating rounds, in the benchmark process: kernel = compile the saved definition, lay out and draw its diagram with the run's path (what GET /ui/workflow/runs/:id does now), baseline = compile it and print its Mermaid text (what the page did before). Two definitions: a 40-status order state machine with retries, cancels from five statuses and loops back, and a 12-step DAG. Figures are milliseconds per page.`,
];

/** A 40-status order pipeline: a main path of 18, error branches, loops back to earlier statuses, cancels from many. */
function orderMachine(): string {
  const main = ['received', 'validated', 'reserved', 'priced', 'fraud_check', 'payment_auth', 'captured', 'picking', 'picked', 'packing', 'packed', 'label', 'handover', 'in_transit', 'out_for_delivery', 'delivered', 'invoice', 'closed'];
  const out = new Map<string, string[]>();
  const add = (from: string, ...to: string[]) => out.set(from, [...(out.get(from) ?? []), ...to]);
  main.slice(0, -1).forEach((s, i) => add(s, main[i + 1]!));
  add('validated', 'invalid');
  add('reserved', 'out_of_stock');
  add('out_of_stock', 'backorder');
  add('backorder', 'reserved');
  add('fraud_check', 'fraud_review');
  add('fraud_review', 'payment_auth', 'fraud_rejected');
  add('payment_auth', 'payment_failed');
  add('payment_failed', 'payment_retry');
  add('payment_retry', 'payment_auth', 'cancelled');
  add('picking', 'pick_error');
  add('pick_error', 'picking');
  add('packing', 'damaged');
  add('damaged', 'picking');
  add('delivered', 'return_requested');
  add('return_requested', 'returned');
  add('returned', 'refund');
  add('refund', 'refunded');
  add('refunded', 'closed');
  add('in_transit', 'lost');
  add('lost', 'claim');
  add('claim', 'claim_paid');
  add('out_for_delivery', 'address_fix');
  add('address_fix', 'redeliver');
  add('redeliver', 'out_for_delivery');
  for (const s of ['received', 'validated', 'reserved', 'priced', 'payment_auth']) add(s, 'cancel_requested');
  add('cancel_requested', 'cancelled', 'manual');
  add('manual', 'cancelled');
  add('closed', 'archived');
  const all = new Set([...main, ...[...out.values()].flat()]);
  const lines = ['name: order', 'start: received', 'states:'];
  for (const s of all) {
    const to = out.get(s);
    lines.push(to ? `  ${s}: { callback: { to: [${to.join(', ')}] }, timeout: { after: 1h, to: ${to[0]} } }` : `  ${s}: {}`);
  }
  return lines.join('\n');
}

/** A 12-step DAG: two fan-outs and a fan-in, one conditional step. */
function reportDag(): string {
  const step = (id: string, needs: string[] = [], extra: Record<string, unknown> = {}) => ({ id, needs, http: { url: `http://127.0.0.1:9/${id}` }, ...extra });
  return JSON.stringify({
    name: 'report',
    steps: [
      step('fetch'),
      step('parse', ['fetch']),
      step('enrich', ['fetch']),
      step('geo', ['fetch']),
      step('translate', ['parse'], { when: 'input.lang != "en"' }),
      step('classify', ['parse', 'enrich']),
      step('score', ['classify', 'geo']),
      step('summarize', ['translate', 'classify']),
      step('render', ['summarize', 'score']),
      step('notify', ['render']),
      step('archive', ['render']),
      step('audit', ['score']),
    ],
  });
}

/** The page inputs for one definition: a stored definition and a run with some history. */
function fixture(text: string, kind: 'yaml' | 'json', statuses: string[]) {
  const parsed = parseDefinition(text, kind);
  const at = new Date('2025-01-01T00:00:00Z');
  const saved: StoredDefinition = { name: parsed.graph.name, kind: parsed.kind, spec: parsed.definition, version: 3, createdAt: at, updatedAt: at };
  const run: RunRecord = { runId: 'r-1', workflow: saved.name, foreignId: 'f-1', runState: 'running', status: statuses.at(-1)!, object: { input: {}, steps: {} }, version: statuses.length, statusDescription: null, reason: null, createdAt: at, updatedAt: at };
  const history: HistoryEntry[] = statuses.map((status, i) => ({ id: i, runId: 'r-1', version: i + 1, status, runState: 'running', statusDescription: null, reason: null, object: null, createdAt: at }));
  return { saved, run, history };
}

/** Milliseconds per page over one round. */
function perPage(render: () => string): number {
  const t = performance.now();
  let bytes = 0;
  for (let i = 0; i < PAGES_PER_ROUND; i++) bytes += render().length;
  if (bytes === 0) throw new Error('rendered nothing');
  return (performance.now() - t) / PAGES_PER_ROUND;
}

/** Runs the diagram benchmark and returns its rows. */
export async function runDiagram(): Promise<BenchRow[]> {
  const cases = [
    { name: 'run page of a 40-status state machine', f: fixture(orderMachine(), 'yaml', ['received', 'validated', 'reserved', 'out_of_stock', 'backorder', 'reserved', 'priced', 'fraud_check', 'payment_auth']) },
    { name: 'run page of a 12-step DAG', f: fixture(reportDag(), 'json', ['stage-1', 'stage-2']) },
  ];
  const rows: BenchRow[] = [];
  for (const c of cases) {
    const { saved, run, history } = c.f;
    const drawn = () => String(RunPage({ data: { run, history, definition: viewOf(saved) } }));
    const text = () => {
      const mermaid = toMermaid(compileDefinition(saved.spec).graph);
      return String(RunPage({ data: { run, history, definition: null } })) + mermaid;
    };
    perPage(drawn);
    perPage(text);
    const r = await alternate(ROUNDS, { drawn: async () => perPage(drawn), text: async () => perPage(text) }, (i, f) => progress('diagram', `${c.name} round ${i}: ${f.drawn.toFixed(2)} ms drawn, ${f.text.toFixed(2)} ms text`));
    rows.push({
      group: 'diagram',
      name: `${c.name}, drawn (baseline: Mermaid text)`,
      unit: 'ms',
      kernel: median(r.drawn),
      baseline: median(r.text),
      detail: `ms per page; drawn ${formatRounds(r.drawn)}; Mermaid text ${formatRounds(r.text)}; per-round ratios ${formatPairedRatios(r.drawn, r.text)}`,
    });
  }
  return rows;
}
