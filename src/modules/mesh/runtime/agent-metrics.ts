/** The agent's Prometheus metrics, served on its local endpoint at /metrics. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Metrics of one agent. */
export function createAgentMetrics() {
  const registry = new Registry();
  return {
    registry,
    renewLatency: new Histogram({ name: 'capstan_mesh_lease_renew_seconds', help: 'Latency of successful lease renewals', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 3], registers: [registry] }),
    sinceRenew: new Gauge({ name: 'capstan_mesh_lease_since_renew_seconds', help: 'Time since the last successful renewal, per held lease', labelNames: ['lease'], registers: [registry] }),
    failovers: new Counter({ name: 'capstan_mesh_failovers_total', help: 'Slots this agent took over from another holder', registers: [registry] }),
    fencedStops: new Counter({ name: 'capstan_mesh_fenced_stops_total', help: 'Replicas stopped because their lease was lost or its deadline passed', registers: [registry] }),
    placementErrors: new Counter({ name: 'capstan_mesh_placement_errors_total', help: 'Placements found unsatisfiable by this agent as leader', registers: [registry] }),
    held: new Gauge({ name: 'capstan_mesh_slots_held', help: 'Slots this agent holds', registers: [registry] }),
  };
}

/** The agent's metrics object. */
export type AgentMetrics = ReturnType<typeof createAgentMetrics>;
