/** The workflow module's metrics, after luno/workflow's (process lag, states, latency, errors, skipped events, run state changes), named by Prometheus' rules (counters end in _total; promtool checks them). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Metric handles the engine updates. */
export interface WorkflowMetrics {
  lag: Gauge<'workflow' | 'process'>;
  lagAlert: Gauge<'workflow' | 'process'>;
  processStates: Gauge<'workflow' | 'process' | 'state'>;
  latency: Histogram<'workflow' | 'process'>;
  errors: Counter<'workflow' | 'process'>;
  skipped: Counter<'workflow' | 'process' | 'reason'>;
  runStateChanges: Counter<'workflow' | 'from' | 'to'>;
}

/** Registers the workflow metrics on the process registry. */
export function createWorkflowMetrics(registry: Registry): WorkflowMetrics {
  const registers = [registry];
  return {
    lag: new Gauge({ name: 'workflow_process_lag_seconds', help: 'Age of the last event a consumer handled', labelNames: ['workflow', 'process'] as const, registers }),
    lagAlert: new Gauge({ name: 'workflow_process_lag_alert', help: '1 while a consumer lags more than the alert threshold', labelNames: ['workflow', 'process'] as const, registers }),
    processStates: new Gauge({ name: 'workflow_process_states', help: '1 for the state each consumer role is in on this instance (running, idle)', labelNames: ['workflow', 'process', 'state'] as const, registers }),
    latency: new Histogram({ name: 'workflow_process_latency_seconds', help: 'Time to handle one event, step included', labelNames: ['workflow', 'process'] as const, buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30], registers }),
    errors: new Counter({ name: 'workflow_process_errors_total', help: 'Failed step attempts', labelNames: ['workflow', 'process'] as const, registers }),
    skipped: new Counter({ name: 'workflow_process_skipped_events_total', help: 'Events a consumer skipped, by reason', labelNames: ['workflow', 'process', 'reason'] as const, registers }),
    runStateChanges: new Counter({ name: 'workflow_run_state_changes_total', help: 'Run state changes applied by this instance', labelNames: ['workflow', 'from', 'to'] as const, registers }),
  };
}
