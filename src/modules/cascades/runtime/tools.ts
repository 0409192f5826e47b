/** Built-in tools a phase may offer the model, as native tool definitions, and their execution. */
import { callHttp, CapstanError, hostAllowed, parseHostAllowlist, type ToolCall, type ToolDefinition } from '../../../kernel/index.ts';
import type { BuiltinTool, PhaseDefinition } from '../model/definition.ts';
import { ActionInterrupted, interruptible, type SessionBrowser } from './browser.ts';

/** Longest tool result sent back to the model (characters). */
const MAX_RESULT_CHARS = 8_000;

/** What a tool may read and change while it runs. */
export interface ToolScope {
  phase: PhaseDefinition;
  state: Record<string, unknown>;
  allowHosts: readonly string[];
  signal: AbortSignal;
  /** Set by route_to: the phase to hand off to. */
  route?: string;
  /** Runs the sql tool's query over the session's schema (rows as JSON text); `signal` cancels it on the server. */
  sql?: (query: string, signal: AbortSignal) => Promise<string>;
  /** The session's browser (opened on first use); absent when this worker has no browser. */
  browser?: () => Promise<SessionBrowser>;
  /**
   * A signal for one browser action, http_get or sql call, aborted when the session stops or an operator signal
   * arrives (already aborted while one waits for the next turn): the call is given up (a request aborted, a query
   * cancelled on the server) instead of running to its end or timeout.
   */
  interrupt?: () => AbortSignal;
}

const BROWSER_ACTIONS = ['navigate', 'click', 'type', 'read_text', 'screenshot'] as const;

/** The tool definitions of a phase (route_to offers exactly its handoffs). */
export function toolDefinitions(phase: PhaseDefinition): ToolDefinition[] {
  return phase.tools.map((t): ToolDefinition => {
    const defs: Record<BuiltinTool, ToolDefinition> = {
      set_state: {
        name: 'set_state',
        description: 'Store a value in the session state, readable by later phases as {{ state.<key> }}.',
        parameters: { type: 'object', properties: { key: { type: 'string' }, value: {} }, required: ['key', 'value'] },
      },
      route_to: {
        name: 'route_to',
        description: 'Choose the phase that runs after this one.',
        parameters: { type: 'object', properties: { phase: { type: 'string', enum: phase.handoffs } }, required: ['phase'] },
      },
      http_get: {
        name: 'http_get',
        description: 'GET a URL (allowed hosts only) and return its JSON answer.',
        parameters: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] },
      },
      sql: {
        name: 'sql',
        description: `Run one read-only SQL query (PostgreSQL) over this session's tables: _<phase> holds each earlier phase's result. Returns at most 100 rows as JSON.`,
        parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
      },
      run_cascade: {
        name: 'run_cascade',
        description: 'Run a saved cascade with inputs and wait for its result (the output of its last phase).',
        parameters: { type: 'object', properties: { cascade: { type: 'string' }, inputs: { type: 'object' } }, required: ['cascade'] },
      },
      browser: {
        name: 'browser',
        description:
          'Drive a web browser (allowed hosts only): navigate {url, new_page?}, click {selector}, type {selector, text}, read_text {selector?} (whole page by default), screenshot (saved as an artifact).',
        parameters: {
          type: 'object',
          properties: { action: { type: 'string', enum: [...BROWSER_ACTIONS] }, url: { type: 'string' }, selector: { type: 'string' }, text: { type: 'string' }, new_page: { type: 'boolean' } },
          required: ['action'],
        },
      },
      ask_human: {
        name: 'ask_human',
        description: 'Ask a person a question and wait for the answer (the session pauses until someone answers).',
        parameters: { type: 'object', properties: { question: { type: 'string' } }, required: ['question'] },
      },
    };
    return defs[t];
  });
}

/** Runs one tool call; a failure becomes the result text (the model is told), `ok` says which it was. */
export async function runTool(call: ToolCall, scope: ToolScope): Promise<{ ok: boolean; result: string }> {
  const args = (call.arguments ?? {}) as Record<string, unknown>;
  try {
    if (!scope.phase.tools.includes(call.name as BuiltinTool)) return { ok: false, result: `error: tool '${call.name}' is not available in this phase` };
    switch (call.name as BuiltinTool) {
      case 'set_state': {
        const key = args.key;
        if (typeof key !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(key)) return { ok: false, result: 'error: key must be a name (letters, digits, _ and -)' };
        scope.state[key] = args.value ?? null;
        return { ok: true, result: `state.${key} set` };
      }
      case 'route_to': {
        const to = args.phase;
        if (typeof to !== 'string' || !scope.phase.handoffs.includes(to)) return { ok: false, result: `error: phase must be one of ${scope.phase.handoffs.join(', ')}` };
        scope.route = to;
        return { ok: true, result: `the next phase will be ${to}` };
      }
      case 'sql': {
        if (typeof args.query !== 'string' || args.query.trim() === '') return { ok: false, result: 'error: query must be a non-empty string' };
        if (!scope.sql) return { ok: false, result: 'error: sql is not available here' };
        const query = args.query;
        return { ok: true, result: await interruptedAs('query', scope, (signal) => scope.sql!(query, signal)) };
      }
      case 'run_cascade':
        // The phase loop starts the child sessions; reaching here means the call could not be taken.
        return { ok: false, result: 'error: run_cascade could not run here' };
      case 'ask_human':
        // The phase loop parks the session for the first question of a turn; a second one in the same turn lands here.
        return { ok: false, result: 'error: one question at a time; ask again after the answer' };
      case 'browser':
        return { ok: true, result: clip(await browse(args, scope)) };
      case 'http_get': {
        if (typeof args.url !== 'string') return { ok: false, result: 'error: url must be a string' };
        const url = args.url;
        const body = await interruptedAs('request', scope, (signal) => callHttp({ method: 'GET', url, timeoutMs: 15_000, signal }, { allowHosts: scope.allowHosts }));
        return { ok: true, result: clip(JSON.stringify(body ?? null)) };
      }
    }
  } catch (err) {
    if (scope.signal.aborted) throw err;
    // The operator's signal text is the next message the model sees.
    if (err instanceof CallInterrupted) return { ok: false, result: `interrupted by ${err.message} before the ${err.what} finished${err.what === 'query' ? ' (it was cancelled)' : ''}` };
    if (err instanceof ActionInterrupted) return { ok: false, result: `interrupted by ${err.message} before the action finished (it may still take effect in the page)` };
    return { ok: false, result: `error: ${err instanceof CapstanError || err instanceof Error ? err.message : String(err)}` };
  }
}

/** An http_get or sql call given up because an operator signal arrived (the run's own stop is rethrown as is). */
class CallInterrupted extends Error {
  constructor(
    readonly what: 'request' | 'query',
    why: string,
  ) {
    super(why);
  }
}

/**
 * Runs `call` with a signal that aborts when the session stops or an operator signal arrives; an abort by the
 * signal surfaces as CallInterrupted at once, whatever the call does with its signal meanwhile.
 */
async function interruptedAs<T>(what: 'request' | 'query', scope: ToolScope, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const signal = scope.interrupt?.() ?? scope.signal;
  try {
    return await interruptible(signal, () => call(signal));
  } catch (err) {
    if (signal.aborted && !scope.signal.aborted) throw new CallInterrupted(what, err instanceof ActionInterrupted ? err.message : 'an operator signal');
    throw err;
  }
}

/** A tool result cut to what goes back to the model. */
function clip(text: string): string {
  return text.length > MAX_RESULT_CHARS ? `${text.slice(0, MAX_RESULT_CHARS)}... (truncated)` : text;
}

/** One browser action; a bad argument or a refused host throws, and the model is told. */
async function browse(args: Record<string, unknown>, scope: ToolScope): Promise<string> {
  if (!scope.browser) throw new Error('no browser on this worker (modules.cascades.browser.enabled is false)');
  const str = (name: string): string => {
    const v = args[name];
    if (typeof v !== 'string' || v === '') throw new Error(`${name} must be a non-empty string`);
    return v;
  };
  // Taken once, before the action starts: a signal already waiting for the next turn stops it from starting.
  const interrupt = scope.interrupt?.();
  const act = <T>(action: (b: SessionBrowser) => Promise<T>): Promise<T> => interruptible(interrupt, async () => action(await scope.browser!()));
  switch (args.action) {
    case 'navigate': {
      const url = new URL(str('url'));
      // The context aborts requests to other hosts too; saying so here gives the model a clear reason.
      if (!hostAllowed(url, parseHostAllowlist(scope.allowHosts))) throw new Error(`host '${url.host}' is not in the allowed hosts (${scope.allowHosts.join(', ') || 'none'})`);
      return act((b) => b.navigate(url.toString(), args.new_page === true));
    }
    case 'click': {
      const selector = str('selector');
      return act((b) => b.click(selector));
    }
    case 'type': {
      const selector = str('selector');
      const text = typeof args.text === 'string' ? args.text : str('text');
      return act((b) => b.type(selector, text));
    }
    case 'read_text': {
      const selector = typeof args.selector === 'string' && args.selector !== '' ? args.selector : undefined;
      return act((b) => b.readText(selector));
    }
    case 'screenshot':
      return `screenshot saved as the session artifact ${await act((b) => b.screenshot())}`;
    default:
      throw new Error(`action must be one of ${BROWSER_ACTIONS.join(', ')}`);
  }
}
