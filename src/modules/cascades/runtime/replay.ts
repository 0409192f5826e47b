/**
 * Replays a recording (model replies, people's answers) against a cascade definition in this process, with no
 * network and no database: the real session run drives the phases, a replay provider answers each LLM call from the
 * recording, and a store that keeps the session in memory stands in for PostgreSQL. Used by snapshot tests.
 */
import pino from 'pino';
import { type ChatRequest, type ChatResult, type LlmClient, type ModelRef } from '../../../kernel/index.ts';
import { cascadesConfigSchema } from '../config.ts';
import type { CascadeDefinition } from '../model/definition.ts';
import type { PhaseTrace, RecordedReply, Recording } from '../model/snapshot.ts';
import type { CheckpointData, HumanCheckpoint, Session } from '../model/session.ts';
import type { ParkedQuestion, PreparedTurn, SessionDataStore } from '../store/index.ts';
import type { ChildRunner } from './children.ts';
import { runLlmPhase } from './llm-phase.ts';
import { NO_METRICS } from './metrics.ts';
import { SessionRun, type RunDeps, type RunStore } from './session-run.ts';
import { runSoundings } from './soundings.ts';

/** A replay's result: how the session ended and each phase's input and output. */
export interface ReplayResult {
  status: 'completed' | 'failed' | 'blocked';
  error: string | null;
  phases: PhaseTrace[];
}

function modelRef(id: string): ModelRef {
  const slash = id.indexOf('/');
  return slash > 0 ? { provider: id.slice(0, slash), model: id.slice(slash + 1), id } : { provider: 'replay', model: id, id };
}

/** The replay provider: answers each call with the next recorded reply of its phase and call; records what was asked. */
class ReplayLlm {
  private readonly used = new Map<string, number>();
  /** First request per phase (the phase's input). */
  readonly firstRequest = new Map<string, { model: string; messages: unknown[] }>();
  phaseOf: () => string | null = () => null;

  constructor(private readonly replies: Record<string, RecordedReply[]>) {}

  async chat(req: ChatRequest): Promise<ChatResult> {
    const phase = this.phaseOf() ?? '-';
    const call = req.headers?.['x-capstan-sounding'] ?? 'turn';
    if (!this.firstRequest.has(phase) && (call === 'turn' || call === '0')) this.firstRequest.set(phase, { model: req.model, messages: structuredClone(req.messages) as unknown[] });
    const key = `${phase}|${call}`;
    const n = this.used.get(key) ?? 0;
    const r = this.replies[key]?.[n];
    if (!r) throw new Error(`no recorded reply for call ${n + 1} of ${key} (the definition now makes more calls than the recording has)`);
    this.used.set(key, n + 1);
    let parsed: unknown;
    if (req.responseFormat) {
      try {
        parsed = JSON.parse(r.text);
      } catch {
        parsed = undefined;
      }
    }
    const message = { role: 'assistant' as const, content: r.text === '' && r.toolCalls.length > 0 ? null : r.text, toolCalls: r.toolCalls.length > 0 ? r.toolCalls : undefined };
    return {
      message,
      text: r.text,
      toolCalls: r.toolCalls,
      parsed,
      finishReason: r.toolCalls.length > 0 ? 'tool_calls' : 'stop',
      usage: { inputTokens: r.tokensIn, outputTokens: r.tokensOut, totalTokens: r.tokensIn + r.tokensOut },
      cost: undefined,
      model: modelRef(r.model || req.model),
      requestedModel: req.model,
      attempts: 1,
      id: `replay-${key}-${n}`,
      latencyMs: 0,
    } as ChatResult;
  }
}

/** The session in memory: the last write's state and checkpoint, and the recorded answers as answered questions. */
class ReplayStore implements RunStore {
  last: PreparedTurn['json'] | undefined;
  private readonly taken = new Map<string, number>();
  private readonly seen = new Map<string, HumanCheckpoint | undefined>();

  constructor(private readonly answers: Record<string, unknown[]>) {}

  async writeTurn(p: PreparedTurn): Promise<number> {
    this.last = p.json;
    return 0;
  }

  async beat(): Promise<string[]> {
    return [];
  }

  async block(_id: string, _epoch: number, _cascadeId: string, _cp: ParkedQuestion): Promise<boolean> {
    return true;
  }

  async getHumanCheckpoint(cpId: string): Promise<HumanCheckpoint | undefined> {
    // A question is looked up more than once (to resume, then by the phase): the first look takes its answer.
    if (this.seen.has(cpId)) return this.seen.get(cpId);
    // Human phases ask as `<session>.<phase>.<visit>`: their answers are kept by phase, in visit order.
    const [sessionId, phase] = cpId.split('.');
    const key = Object.hasOwn(this.answers, cpId) ? cpId : `phase:${phase}`;
    const n = this.taken.get(key) ?? 0;
    const list = this.answers[key] ?? [];
    const found: HumanCheckpoint | undefined =
      n < list.length ? { id: cpId, sessionId: sessionId!, phase: phase!, prompt: '', status: 'answered', response: list[n], onTimeout: 'continue', expiresAt: null, createdAt: '', answeredAt: '' } : undefined;
    if (found) this.taken.set(key, n + 1);
    this.seen.set(cpId, found);
    return found;
  }
}

/** A phase runner for a kind a replay cannot run: it fails the replay at that phase, saying why. */
function notReplayed(what: string): () => Promise<never> {
  return () => Promise.reject(new Error(`${what} are not replayed: a snapshot replay has no database`));
}

/**
 * A stand-in for a database-backed dependency a replay does not have: any use (a call, however deep the property path)
 * fails with a message naming what is not replayed, instead of a TypeError on undefined.
 */
function unavailable<T>(what: string): T {
  const fail = (): never => {
    throw new Error(`${what} are not replayed: a snapshot replay has no database`);
  };
  const handle: ProxyHandler<() => never> = { get: (_t, prop) => (prop === 'then' ? undefined : proxy), apply: fail };
  const proxy: unknown = new Proxy(fail, handle);
  return proxy as T;
}

/** Runs `spec` from its first phase on the recording; a question with no recorded answer stops it as 'blocked'. */
export async function replaySession(given: CascadeDefinition, recording: Recording): Promise<ReplayResult> {
  // No network in a replay: http_get refuses every host (its recorded results are not replayed).
  const spec: CascadeDefinition = { ...given, allow_hosts: [] };
  const llm = new ReplayLlm(recording.replies);
  const store = new ReplayStore(recording.answers);
  const config = cascadesConfigSchema.parse({ heartbeatMs: 3_600_000, leaseMs: 7_200_000 });
  const deps: RunDeps = {
    store,
    llm: llm as unknown as LlmClient,
    log: pino({ level: 'silent' }),
    config,
    metrics: NO_METRICS,
    data: unavailable<SessionDataStore>('sql phases and the sql tool'),
    children: unavailable<ChildRunner>('sub-cascades (for_each_row, run_cascade, async_cascades, cascade validators)'),
    phases: { llm: runLlmPhase, soundings: runSoundings, sql: notReplayed('sql phases'), forEachRow: notReplayed('for_each_row phases'), asyncCascades: notReplayed('async_cascades') },
  };
  let session: Session = { id: recording.sessionId, cascadeId: spec.cascade_id, spec, status: 'running', currentPhase: spec.phases[0]!.name, inputs: recording.inputs, state: {}, outputs: {}, completed: [], error: null, cost: 0, tokensIn: 0, tokensOut: 0, owner: 'replay', epoch: 1, recoveries: 0, heartbeatAt: null, createdAt: '', updatedAt: '', finishedAt: null, parentSessionId: null, detached: false, depth: 0 };
  let checkpoint: CheckpointData | undefined;
  let outcome: string = 'blocked';
  let error: string | null = null;
  // A question the model asks parks the run; it resumes at once with the recorded answer, as a worker would.
  for (let parks = 0; parks <= 100; parks++) {
    const run = new SessionRun(deps, session, checkpoint);
    llm.phaseOf = () => run.current;
    outcome = await run.execute();
    if (outcome !== 'blocked' || !store.last) break;
    checkpoint = JSON.parse(store.last.checkpoint) as CheckpointData;
    const resumable = checkpoint.asking ? await store.getHumanCheckpoint(checkpoint.asking.checkpointId) : undefined;
    if (!resumable) break;
    session = { ...session, currentPhase: checkpoint.phase, state: JSON.parse(store.last.state), outputs: JSON.parse(store.last.outputs), completed: JSON.parse(store.last.completed) };
  }
  const final = store.last ? { outputs: JSON.parse(store.last.outputs) as Record<string, unknown>, completed: JSON.parse(store.last.completed) as string[] } : { outputs: {}, completed: [] };
  if (outcome === 'failed') error = store.last?.error ?? 'the replay failed';
  const phases: PhaseTrace[] = final.completed.map((phase) => ({ phase, input: llm.firstRequest.get(phase) ?? null, output: final.outputs[phase] ?? null }));
  return { status: outcome === 'completed' ? 'completed' : outcome === 'blocked' ? 'blocked' : 'failed', error, phases };
}
