/**
 * The cascades module's Prometheus series: sessions by status (the whole deployment, read from the database at scrape
 * time), sessions running on this instance, and what this instance did: phases, LLM turns, tokens and cost by cascade,
 * sessions ended, orphan recoveries. Counters end in `_total`, units are seconds; promtool checks the exposition.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { cachedByLabels } from '../../../kernel/index.ts';
import { SESSION_STATUSES, type SessionStatus } from '../model/session.ts';

/** How a phase ran. */
export type PhaseKind = 'llm' | 'soundings' | 'human' | 'sql' | 'for_each_row';

/** What the worker, the sweeper and the service report; plain callbacks so the runtime never touches prom-client. */
export interface CascadeMetrics {
  /** One LLM call (a turn, a sounding attempt or an evaluator pick) of a session of `cascade`, with what it used. */
  llmCall(cascade: string, tokensIn: number, tokensOut: number, cost: number | undefined): void;
  /** A phase of `cascade` completed on this instance after `seconds` (of this run of it). */
  phase(cascade: string, kind: PhaseKind, seconds: number): void;
  /** A session ended here with `status`. */
  ended(cascade: string, status: 'completed' | 'error' | 'cancelled'): void;
  /** The sweeper moved an orphan: `requeued` to resume elsewhere, or `failed` with its recovery attempts spent. */
  orphan(outcome: 'requeued' | 'failed'): void;
}

/** Where the scrape-time gauges read from. */
export interface MetricSources {
  /** Sessions per status in the database (a status with none may be missing). */
  countByStatus(): Promise<Partial<Record<SessionStatus, number>>>;
  /** Sessions this instance's worker runs now. */
  active(): number;
}

/** Registers the series on the process registry. */
export function createCascadeMetrics(registry: Registry, sources: MetricSources): CascadeMetrics {
  const registers = [registry];
  new Gauge({
    name: 'cascades_sessions',
    help: 'Cascade sessions by status in the shared database (the whole deployment: every instance reports the same)',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      let counts: Partial<Record<SessionStatus, number>>;
      try {
        counts = await sources.countByStatus();
      } catch {
        // A scrape must not fail because the database is down; /readyz reports that.
        return;
      }
      for (const status of SESSION_STATUSES) this.set({ status }, counts[status] ?? 0);
    },
  });
  new Gauge({
    name: 'cascades_sessions_active',
    help: 'Cascade sessions running on this instance now',
    registers,
    collect() {
      this.set(sources.active());
    },
  });
  const turns = new Counter({ name: 'cascades_turns_total', help: 'LLM calls made by cascade sessions on this instance (turns, sounding attempts, evaluator picks)', labelNames: ['cascade'] as const, registers });
  const tokens = new Counter({ name: 'cascades_llm_tokens_total', help: 'Tokens used by cascade sessions on this instance, by direction (input = prompt, output = completion)', labelNames: ['cascade', 'direction'] as const, registers });
  const cost = new Counter({ name: 'cascades_llm_cost_total', help: "LLM cost of cascade sessions on this instance, in the price table's currency (USD by convention); unpriced models add nothing", labelNames: ['cascade'] as const, registers });
  const phases = new Counter({ name: 'cascades_phases_total', help: 'Phases completed on this instance, by kind (llm, soundings, human)', labelNames: ['cascade', 'kind'] as const, registers });
  const phaseTime = new Histogram({ name: 'cascades_phase_duration_seconds', help: 'Time a phase took on the worker that completed it (a resumed phase counts from its resumption)', labelNames: ['kind'] as const, buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers });
  const ended = new Counter({ name: 'cascades_sessions_ended_total', help: 'Sessions this instance ended, by status (completed, error, cancelled)', labelNames: ['cascade', 'status'] as const, registers });
  const orphans = new Counter({ name: 'cascades_orphan_recoveries_total', help: 'Orphaned sessions (heartbeat lease lapsed) the sweeper on this instance moved: requeued to resume from their checkpoint, or failed with their attempts spent', labelNames: ['outcome'] as const, registers });
  const callOf = cachedByLabels((cascade) => ({ turns: turns.labels(cascade!), input: tokens.labels(cascade!, 'input'), output: tokens.labels(cascade!, 'output'), cost: cost.labels(cascade!) }));
  return {
    llmCall(cascade, tokensIn, tokensOut, c) {
      const s = callOf(cascade);
      s.turns.inc();
      if (tokensIn) s.input.inc(tokensIn);
      if (tokensOut) s.output.inc(tokensOut);
      if (c) s.cost.inc(c);
    },
    phase(cascade, kind, seconds) {
      phases.inc({ cascade, kind });
      phaseTime.observe({ kind }, seconds);
    },
    ended: (cascade, status) => ended.inc({ cascade, status }),
    orphan: (outcome) => orphans.inc({ outcome }),
  };
}

/** Metrics that go nowhere: for code that runs a session outside a server (tests of the runtime alone). */
export const NO_METRICS: CascadeMetrics = { llmCall() {}, phase() {}, ended() {}, orphan() {} };
