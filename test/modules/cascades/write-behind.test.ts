/**
 * Write-behind checkpoints in a session run, with a store and an LLM whose answers the test releases one by one: the
 * next LLM call overlaps the previous turn's write, nothing after that call happens before the write committed, and
 * a write refused because the session was lost aborts the call in flight and writes nothing more.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/kernel/log.ts';
import type { ChatRequest, ChatResult, LlmClient } from '../../../src/kernel/index.ts';
import { cascadesConfigSchema } from '../../../src/modules/cascades/config.ts';
import { checkDefinition } from '../../../src/modules/cascades/model/parse-definition.ts';
import type { Session } from '../../../src/modules/cascades/model/session.ts';
import type { ChildRunner } from '../../../src/modules/cascades/runtime/children.ts';
import { NO_METRICS } from '../../../src/modules/cascades/runtime/metrics.ts';
import { SessionRun } from '../../../src/modules/cascades/runtime/session-run.ts';
import { PHASE_RUNNERS } from '../../../src/modules/cascades/runtime/phase-runners.ts';
import type { CascadeStore, PreparedTurn, SessionDataStore } from '../../../src/modules/cascades/store/index.ts';

/** A promise with its resolve and reject in hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Lets every promise callback that can run now run. */
const settle = () => new Promise<void>((r) => setTimeout(r, 0));

function answer(text: string): ChatResult {
  return { message: { role: 'assistant', content: text }, text, toolCalls: [], parsed: undefined, finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, cost: 0, model: { provider: 'fake', model: 'm', id: 'fake/m' }, requestedModel: 'fake/m', attempts: 1, id: 'x', latencyMs: 1 } as ChatResult;
}

function harness() {
  const calls: { req: ChatRequest; done: ReturnType<typeof deferred<ChatResult>> }[] = [];
  const writes: { params: unknown[]; done: ReturnType<typeof deferred<number | undefined>> }[] = [];
  const llm = {
    chat(req: ChatRequest) {
      const done = deferred<ChatResult>();
      req.signal?.addEventListener('abort', () => done.reject(req.signal!.reason), { once: true });
      calls.push({ req, done });
      return done.promise;
    },
  } as unknown as LlmClient;
  const store = {
    writeTurn(p: PreparedTurn) {
      const done = deferred<number | undefined>();
      writes.push({ params: p.params, done });
      return done.promise;
    },
    beat: async () => [],
  } as unknown as CascadeStore;
  const spec = checkDefinition({ cascade_id: 'wb', model: 'fake/m', phases: [{ name: 'a', instructions: 'A' }, { name: 'b', instructions: 'B' }, { name: 'c', instructions: 'C' }] });
  const session: Session = { id: 's1', cascadeId: 'wb', spec, status: 'running', currentPhase: 'a', inputs: {}, state: {}, outputs: {}, completed: [], error: null, cost: 0, tokensIn: 0, tokensOut: 0, owner: 'w', epoch: 1, recoveries: 0, heartbeatAt: null, createdAt: '', updatedAt: '', finishedAt: null, parentSessionId: null, detached: false, depth: 0 };
  const config = cascadesConfigSchema.parse({});
  const run = new SessionRun({ store, llm, log: createLogger({ level: 'silent' }), config, metrics: NO_METRICS, data: {} as SessionDataStore, children: {} as ChildRunner, phases: PHASE_RUNNERS }, session, undefined);
  return { run, calls, writes };
}

describe('write-behind checkpoints', () => {
  it('the next call overlaps the previous write; its answer is used only after that write committed; writes keep their order', async () => {
    const { run, calls, writes } = harness();
    const result = run.execute();
    await settle();
    calls[0]!.done.resolve(answer('out-a'));
    await settle();
    // Phase a ended: its write is in flight and phase b's call is already out.
    expect(writes).toHaveLength(1);
    expect(calls).toHaveLength(2);
    calls[1]!.done.resolve(answer('out-b'));
    await settle();
    // b's answer is in, but b's write waits for a's: no second write, no third call yet.
    expect(writes).toHaveLength(1);
    expect(calls).toHaveLength(2);
    writes[0]!.done.resolve(0);
    await settle();
    expect(writes).toHaveLength(2);
    expect(calls).toHaveLength(3);
    // Each write was serialised when it was queued: a's write holds only a's output.
    expect(JSON.parse(writes[0]!.params[4] as string)).toEqual({ a: 'out-a' });
    expect(JSON.parse(writes[1]!.params[4] as string)).toEqual({ a: 'out-a', b: 'out-b' });
    calls[2]!.done.resolve(answer('out-c'));
    await settle();
    expect(writes).toHaveLength(2);
    writes[1]!.done.resolve(0);
    await settle();
    // The last phase's write is the one that finishes the session.
    expect(writes).toHaveLength(3);
    expect(writes[2]!.params[14]).toBe('completed');
    writes[2]!.done.resolve(0);
    expect(await result).toBe('completed');
  });

  it('a write refused (the session was lost) aborts the call in flight, and nothing more is written', async () => {
    const { run, calls, writes } = harness();
    const result = run.execute();
    await settle();
    calls[0]!.done.resolve(answer('out-a'));
    await settle();
    expect(calls).toHaveLength(2);
    writes[0]!.done.resolve(undefined);
    expect(await result).toBe('stopped');
    expect(calls[1]!.req.signal!.aborted).toBe(true);
    expect(writes).toHaveLength(1);
  });

  it('a failed write (database error) stops the run without writing past it; the sweeper resumes the session', async () => {
    const { run, calls, writes } = harness();
    const result = run.execute();
    await settle();
    calls[0]!.done.resolve(answer('out-a'));
    await settle();
    writes[0]!.done.reject(Object.assign(new Error('connection lost'), { code: '08006' }));
    await settle();
    calls[1]!.done.resolve(answer('out-b'));
    expect(await result).toBe('stopped');
    expect(writes).toHaveLength(1);
  });
});
