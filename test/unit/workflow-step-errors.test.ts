/** handleRun's error accounting: a failing step counts towards pausing the run; an outcome the database could not record does not. */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/kernel/log.ts';
import { defineWorkflow, type StepOptions, type WorkflowSpec } from '../../src/modules/workflow/model/builder.ts';
import { createWorkflowMetrics } from '../../src/modules/workflow/runtime/metrics.ts';
import type { RunRecord } from '../../src/modules/workflow/model/run.ts';
import { handleRun, type StepConsumerDeps } from '../../src/modules/workflow/runtime/step-consumer.ts';
import type { Transitioner } from '../../src/modules/workflow/runtime/transitions.ts';

const run: RunRecord = { runId: 'r-1', workflow: 'w', foreignId: 'f', runState: 'running', status: 'a', object: {}, version: 3, statusDescription: null, reason: null, createdAt: new Date(), updatedAt: new Date() };

/** Deps around one step at status `a`; `move` decides what writing the outcome does; pauses are recorded. */
function deps(step: () => string, move: () => Promise<RunRecord>, paused: string[], opts: StepOptions = { pauseAfterErrCount: 2 }): StepConsumerDeps {
  const spec = defineWorkflow<Record<string, never>, 'a' | 'b'>('w').step('a', step as never, 'b', opts).build() as unknown as WorkflowSpec;
  const transitioner = {
    moveTo: move,
    control: move,
    setRunState: async (_r: RunRecord, _s: string, reason: string) => {
      paused.push(reason);
      return run;
    },
  } as unknown as Transitioner;
  return {
    spec,
    status: 'a',
    process: spec.processes.get('a')!,
    shard: 0,
    store: { lookup: async () => run } as never,
    bus: {} as never,
    transitioner,
    metrics: createWorkflowMetrics(new Registry()),
    log: createLogger({ level: 'silent' }),
    failures: new Map(),
    sweepIntervalMs: 1_000,
    concurrency: 1,
  };
}

describe('handleRun error accounting', () => {
  it('a step that throws counts, and the run is paused after pauseAfterErrCount attempts', async () => {
    const paused: string[] = [];
    const d = deps(
      () => {
        throw new Error('remote said no');
      },
      async () => run,
      paused,
    );
    await expect(handleRun(d, 'r-1', 3)).rejects.toThrow('remote said no');
    expect(paused).toEqual([]);
    expect(await handleRun(d, 'r-1', 3)).toBeUndefined();
    expect(paused).toHaveLength(1);
    expect(paused[0]).toContain('2 failed attempts');
  });

  it('a step whose outcome cannot be written because the database is away is redelivered, never counted or paused', async () => {
    const paused: string[] = [];
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const d = deps(
      () => 'b',
      async () => {
        throw down;
      },
      paused,
    );
    for (let i = 0; i < 5; i++) await expect(handleRun(d, 'r-1', 3)).rejects.toBe(down);
    expect(paused).toEqual([]);
    expect(d.failures.size).toBe(0);
  });

  it('with a retry policy, a failure schedules the next attempt after the backoff and nothing runs before it', async () => {
    const paused: string[] = [];
    let calls = 0;
    const d = deps(
      () => {
        calls++;
        throw new Error('remote said no');
      },
      async () => run,
      paused,
      { retry: { attempts: 3, backoffMs: 60_000 } },
    );
    const later: string[] = [];
    d.retryLater = (runId) => later.push(runId);
    const before = Date.now();
    expect(await handleRun(d, 'r-1', 3)).toBeUndefined();
    expect(later).toEqual(['r-1']);
    expect(d.failures.get('w-a-consumer-1-of-1:r-1')?.retryAt).toBeGreaterThanOrEqual(before + 60_000);
    // The event again, or a sweep, before the backoff is over: no attempt.
    expect(await handleRun(d, 'r-1', 3)).toBe('backing_off');
    expect(calls).toBe(1);
    // Once it is over the step runs; the third failure (attempts: 3) pauses the run.
    d.failures.set('w-a-consumer-1-of-1:r-1', { count: 2, retryAt: Date.now() });
    expect(await handleRun(d, 'r-1', 3)).toBeUndefined();
    expect(calls).toBe(2);
    expect(paused[0]).toContain('3 failed attempts');
  });
});
