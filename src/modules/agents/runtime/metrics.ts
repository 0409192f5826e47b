/** The agents module's Prometheus metrics (registered once per registry). */
import { Counter, Gauge, type Registry } from 'prom-client';

/** Metrics of agent runs on this instance. */
export interface AgentMetrics {
  running: Gauge;
  turns: Counter;
  ended: Counter<'status'>;
  tokens: Counter<'direction'>;
  cost: Counter;
  refusals: Counter<'rule'>;
}

/** Creates (or finds, when the registry has them) the agents metrics. */
export function agentMetrics(registry: Registry): AgentMetrics {
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    running: get('agents_running', () => new Gauge({ name: 'agents_running', help: 'Agents running on this instance now', registers: [registry] })),
    turns: get('agents_turns_total', () => new Counter({ name: 'agents_turns_total', help: 'Agent turns (LLM call plus its tool calls) saved', registers: [registry] })),
    ended: get('agents_ended_total', () => new Counter({ name: 'agents_ended_total', help: 'Agents that ended on this instance, by final status', labelNames: ['status'], registers: [registry] })),
    tokens: get('agents_llm_tokens_total', () => new Counter({ name: 'agents_llm_tokens_total', help: 'LLM tokens spent by agents', labelNames: ['direction'], registers: [registry] })),
    cost: get('agents_llm_cost_total', () => new Counter({ name: 'agents_llm_cost_total', help: 'LLM cost spent by agents, in price-table units', registers: [registry] })),
    refusals: get('agents_safety_refusals_total', () => new Counter({ name: 'agents_safety_refusals_total', help: 'Tool calls refused by a safety rule', labelNames: ['rule'], registers: [registry] })),
  };
}

/**
 * The gauge agents_swarm_capacity{swarm, name}: the capacity of each running autoscaled swarm, read from the shared
 * database at scrape time (every instance reports the same values: the limit is the swarm's, not an instance's).
 */
export function swarmCapacityGauge(registry: Registry, capacities: () => Promise<{ id: string; name: string; capacity: number }[]>): void {
  if (registry.getSingleMetric('agents_swarm_capacity')) registry.removeSingleMetric('agents_swarm_capacity');
  new Gauge({
    name: 'agents_swarm_capacity',
    help: 'Agents an autoscaled swarm may run at once now (between its min and max, following its queued work)',
    labelNames: ['swarm', 'name'],
    registers: [registry],
    async collect() {
      let rows;
      try {
        rows = await capacities();
      } catch {
        // A scrape must not fail because the database is away; /readyz reports that.
        return;
      }
      this.reset();
      for (const r of rows) this.set({ swarm: r.id, name: r.name }, r.capacity);
    },
  });
}
