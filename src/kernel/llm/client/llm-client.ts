/** createLlmClient: the LLM port behind `resources.llm` (chat and stream over every configured OpenAI-compatible provider). */
import { Registry } from 'prom-client';
import { Invalid } from '../../errors.ts';
import { createLogger, type Logger } from '../../log.ts';
import { effectiveDefaultProvider, type LlmConfig } from '../config/schema.ts';
import { classifyLlmError, LlmBudgetExceeded, LlmError } from '../model/errors.ts';
import { resolveModel, type ModelRef } from '../model/model-ref.ts';
import type { ChatRequest, ChatResult, LlmClient, StreamEvent } from '../model/request.ts';
import { costOf, priceOf } from '../model/usage.ts';
import { sendChat } from './attempt.ts';
import { runCallLoop, type CallProgress, type LoopDeps } from './call-loop.ts';
import { finishResult } from './finish.ts';
import { createLlmStream } from './llm-stream.ts';
import { createLlmMetrics } from './metrics.ts';
import { ProviderRuntime } from './provider.ts';

/** What the client is built from. */
export interface LlmClientOptions {
  /** The parsed `llm` config key (keys already read from the environment by the config loader). */
  config: LlmConfig;
  /** Where the llm_* series go; a private registry when omitted. */
  registry?: Registry;
  log?: Logger;
  /** Monotonic clock in ms for the circuit breakers; injectable for tests. */
  now?: () => number;
}

/** Builds the client; cheap, holds no connection (fetch pools them). */
export function createLlmClient(opts: LlmClientOptions): LlmClient {
  const cfg = opts.config;
  const log = opts.log ?? createLogger({ level: 'silent' });
  const metrics = createLlmMetrics(opts.registry ?? new Registry());
  const runtimes = new Map(Object.entries(cfg.providers).map(([name, p]) => [name, new ProviderRuntime(name, p, metrics, log, opts.now)]));
  const names = new Set(runtimes.keys());
  const defaultProvider = effectiveDefaultProvider(cfg);
  const resolve = (name: string) => resolveModel(name, names, defaultProvider);
  // Fallbacks keyed by the resolved id, so `gpt-4o` and `openai/gpt-4o` find the same list.
  const fallbackTable = new Map(Object.entries(cfg.fallbacks).map(([from, to]) => [resolve(from).id, to]));
  const deps: LoopDeps = { provider: (name) => runtimes.get(name)!, metrics, log };

  function candidates(req: ChatRequest): ModelRef[] {
    const first = resolve(req.model);
    const seen = new Set([first.id]);
    const out = [first];
    for (const name of req.fallbacks ?? fallbackTable.get(first.id) ?? []) {
      const ref = resolve(name);
      if (!seen.has(ref.id)) {
        seen.add(ref.id);
        out.push(ref);
      }
    }
    return out;
  }

  async function execute<T>(req: ChatRequest<T>, signal: AbortSignal | undefined, emit?: (events: StreamEvent[]) => void): Promise<ChatResult<T>> {
    if (!Array.isArray(req.messages) || req.messages.length === 0) throw new Invalid('messages must hold at least one message', [{ path: 'messages', message: 'required' }]);
    const cands = candidates(req);
    const started = performance.now();
    const progress: CallProgress = { target: cands[0]!, attempts: 0, committed: false };
    try {
      const budget = req.budget;
      if (budget && budget.spent >= budget.limit) throw new LlmBudgetExceeded(cands[0]!.id, budget.limit, budget.spent);
      const attemptReq = { ...req, signal };
      const onEvents = emit
        ? (events: StreamEvent[]) => {
            progress.committed = true;
            emit(events);
          }
        : undefined;
      const completion = await runCallLoop(deps, cands, signal, progress, (p, target) => sendChat(p, target, attemptReq, onEvents));
      const target = progress.target;
      const cost = costOf(completion.usage, priceOf(runtimes.get(target.provider)!.cfg.prices, target.model));
      // Spent whether or not the answer passes the checks below, so it is counted first.
      metrics.usage(target, completion.usage, cost);
      if (cost) budget?.charge(cost);
      const latencyMs = performance.now() - started;
      const result = finishResult(completion, req, { target, requestedModel: req.model, attempts: progress.attempts, latencyMs, cost });
      metrics.call(target, 'ok', latencyMs / 1000);
      return result;
    } catch (err) {
      const outcome = classifyLlmError(err);
      metrics.call(progress.target, outcome, (performance.now() - started) / 1000);
      if (err instanceof LlmError && outcome !== 'cancelled') log.warn({ model: progress.target.id, code: err.code, attempts: progress.attempts, err: err.message }, 'LLM call failed');
      throw err;
    }
  }

  return {
    chat: ((req: ChatRequest) => execute(req, req.signal)) as LlmClient['chat'],
    stream: ((req: ChatRequest) => createLlmStream((emit, signal) => execute(req, signal, emit), req.signal)) as LlmClient['stream'],
    resolveModel: resolve,
    circuitState: (name) => {
      const ref = resolve(name);
      return runtimes.get(ref.provider)!.circuitState(ref.model);
    },
    providers: () => [...names],
  };
}
