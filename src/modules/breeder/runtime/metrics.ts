/** The breeder module's metrics: trials by state, trial duration by phase, best value per objective, active workers. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Metric handles the loop updates. */
export interface BreederMetrics {
  trials: Counter<'breeder' | 'state'>;
  phase: Histogram<'phase'>;
  best: Gauge<'breeder' | 'objective'>;
  activeWorkers: Gauge<'breeder'>;
  buffered: Gauge<'breeder'>;
}

/** Registers the breeder metrics on the process registry. */
export function createBreederMetrics(registry: Registry): BreederMetrics {
  const registers = [registry];
  return {
    trials: new Counter({ name: 'breeder_trials_total', help: 'Trials ended on this instance, by state (complete, fail including abandoned, pruned)', labelNames: ['breeder', 'state'] as const, registers }),
    phase: new Histogram({ name: 'breeder_trial_phase_seconds', help: 'Time spent per trial phase (sample, effectuate, settle, reconnoiter)', labelNames: ['phase'] as const, buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 2, 10, 60, 300], registers }),
    best: new Gauge({ name: 'breeder_best_value', help: 'Best value so far per objective of single-objective breeders run here', labelNames: ['breeder', 'objective'] as const, registers }),
    activeWorkers: new Gauge({ name: 'breeder_active_workers', help: 'Breeder worker slots running on this instance', labelNames: ['breeder'] as const, registers }),
    buffered: new Gauge({ name: 'breeder_buffered_trials', help: 'Trials run while the database was away, held in memory on this instance until it answers again', labelNames: ['breeder'] as const, registers }),
  };
}
