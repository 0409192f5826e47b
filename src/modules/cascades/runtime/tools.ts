/** Built-in tools a phase may offer the model, as native tool definitions, and their execution. */
import { callHttp, CapstanError, type ToolCall, type ToolDefinition } from '../../../kernel/index.ts';
import type { BuiltinTool, PhaseDefinition } from '../model/definition.ts';

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
  /** Runs the sql tool's query over the session's schema (rows as JSON text). */
  sql?: (query: string) => Promise<string>;
}

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
        return { ok: true, result: await scope.sql(args.query) };
      }
      case 'run_cascade':
        // The phase loop starts the child sessions; reaching here means the call could not be taken.
        return { ok: false, result: 'error: run_cascade could not run here' };
      case 'ask_human':
        // The phase loop parks the session for the first question of a turn; a second one in the same turn lands here.
        return { ok: false, result: 'error: one question at a time; ask again after the answer' };
      case 'http_get': {
        if (typeof args.url !== 'string') return { ok: false, result: 'error: url must be a string' };
        const body = await callHttp({ method: 'GET', url: args.url, timeoutMs: 15_000, signal: scope.signal }, { allowHosts: scope.allowHosts });
        const text = JSON.stringify(body ?? null);
        return { ok: true, result: text.length > MAX_RESULT_CHARS ? `${text.slice(0, MAX_RESULT_CHARS)}... (truncated)` : text };
      }
    }
  } catch (err) {
    if (scope.signal.aborted) throw err;
    return { ok: false, result: `error: ${err instanceof CapstanError || err instanceof Error ? err.message : String(err)}` };
  }
}
