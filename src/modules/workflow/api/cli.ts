/** `capstan workflow ...`: client commands over HTTP (tables by default, JSON with --json). */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CliClient } from '../../../kernel/index.ts';

const USAGE = `usage: capstan workflow <command>
  apply -f FILE [--force]                create or update a definition (YAML or JSON); --force even if runs wait at a removed status
  definitions                            list definitions
  trigger NAME --foreign-id X [--object JSON] [--start STATUS]
  runs [--workflow W] [--status S] [--run-state R] [--foreign-id X] [--limit N]
  show RUN                               one run with its history
  await RUN --status S [--timeout 30s]   wait until the run has been at S
  pause|resume|cancel RUN [--reason TEXT]
  callback RUN --status AT --to NEXT [--object JSON]
global flags: --server URL (or CAPSTAN_SERVER), --json; token from CAPSTAN_TOKEN`;

class Usage extends Error {}

function parseJson(flag: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new Usage(`--${flag} must be JSON`);
  }
}

const RUN_COLUMNS = ['runId', 'workflow', 'foreignId', 'status', 'runState', 'version', 'updatedAt'];

/** Per command: how many positionals it takes and which flags mean something to it (others are mistakes, not no-ops). */
const SHAPES: Record<string, { positionals: number; flags: string[] }> = {
  apply: { positionals: 0, flags: ['file', 'force'] },
  definitions: { positionals: 0, flags: [] },
  trigger: { positionals: 1, flags: ['foreign-id', 'object', 'start'] },
  runs: { positionals: 0, flags: ['workflow', 'status', 'run-state', 'foreign-id', 'limit'] },
  show: { positionals: 1, flags: [] },
  await: { positionals: 1, flags: ['status', 'timeout'] },
  pause: { positionals: 1, flags: ['reason'] },
  resume: { positionals: 1, flags: ['reason'] }, // the usage line lists --reason for all three; the server ignores it on resume
  cancel: { positionals: 1, flags: ['reason'] },
  callback: { positionals: 1, flags: ['status', 'to', 'object'] },
};

/** Throws Usage for a positional or a flag the command does not take. */
function checkShape(cmd: string, positionals: string[], values: Record<string, unknown>): void {
  const shape = SHAPES[cmd];
  if (!shape) return;
  if (positionals.length > shape.positionals) throw new Usage(`${cmd}: unexpected argument '${positionals[shape.positionals]}'`);
  const stray = Object.keys(values).find((f) => values[f] !== undefined && !shape.flags.includes(f));
  if (stray) throw new Usage(`${cmd} does not take --${stray}`);
}

/** The message for a failed definition upload: the problem's detail and fields, or the bare status when the body is not a problem. */
function applyFailure(status: number, statusText: string, text: string): string {
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: Bun answers an oversized body with a bare 413 before the app sees it.
  }
  const detail = typeof body?.detail === 'string' ? body.detail : status === 413 ? 'the definition is larger than the server accepts' : statusText || 'request failed';
  const errs = Array.isArray(body?.errors) ? (body.errors as { path: string; message: string }[]).map((e) => `\n  ${e.path}: ${e.message}`).join('') : '';
  return `${status} ${detail}${errs}`;
}

/** Runs one workflow client command; returns the exit code. */
export async function workflowCli(argv: string[], client: CliClient): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        file: { type: 'string', short: 'f' },
        force: { type: 'boolean' },
        'foreign-id': { type: 'string' },
        object: { type: 'string' },
        start: { type: 'string' },
        workflow: { type: 'string' },
        status: { type: 'string' },
        'run-state': { type: 'string' },
        limit: { type: 'string' },
        timeout: { type: 'string' },
        reason: { type: 'string' },
        to: { type: 'string' },
      },
    });
    checkShape(cmd ?? '', positionals, values);
    const need = (v: string | undefined, what: string) => {
      if (!v) throw new Usage(`${cmd} needs ${what}`);
      return v;
    };
    switch (cmd) {
      case 'apply': {
        const file = need(values.file, '-f FILE');
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          throw new Usage(`cannot read ${file}: ${(err as Error).message}`);
        }
        let res: Response;
        try {
          res = await fetch(new URL(`/api/v1/workflow/definitions${values.force ? '?force=true' : ''}`, client.server), {
            method: 'POST',
            headers: { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/yaml', ...(client.token ? { authorization: `Bearer ${client.token}` } : {}) },
            body: text,
          });
        } catch (err) {
          console.error(`capstan: cannot reach ${client.server}: ${(err as Error).message} (set --server or CAPSTAN_SERVER)`);
          return 1;
        }
        const answer = await res.text();
        if (!res.ok) {
          console.error(`capstan: ${applyFailure(res.status, res.statusText, answer)}`);
          return 1;
        }
        const body = JSON.parse(answer) as Record<string, unknown>;
        client.print(client.json ? body : { name: body.name, kind: body.kind, version: body.version });
        return 0;
      }
      case 'definitions': {
        const r = await client.request<{ definitions: Record<string, unknown>[] }>('GET', '/api/v1/workflow/definitions');
        client.print(r.definitions, ['name', 'kind', 'version', 'updatedAt']);
        return 0;
      }
      case 'trigger': {
        const wf = need(positionals[0], 'a workflow NAME');
        const r = await client.request<Record<string, unknown>>('POST', `/api/v1/workflow/workflows/${encodeURIComponent(wf)}/runs`, {
          foreignId: need(values['foreign-id'], '--foreign-id'),
          object: parseJson('object', values.object),
          start: values.start,
        });
        client.print(r);
        return 0;
      }
      case 'runs': {
        const q = new URLSearchParams();
        for (const [k, v] of [['workflow', values.workflow], ['status', values.status], ['runState', values['run-state']], ['foreignId', values['foreign-id']], ['limit', values.limit]] as const) if (v) q.set(k, v);
        const r = await client.request<{ runs: Record<string, unknown>[]; nextCursor: string | null }>('GET', `/api/v1/workflow/runs?${q}`);
        client.print(r.runs, RUN_COLUMNS);
        return 0;
      }
      case 'show': {
        const id = need(positionals[0], 'a RUN id');
        const run = await client.request<Record<string, unknown>>('GET', `/api/v1/workflow/runs/${encodeURIComponent(id)}`);
        const h = await client.request<{ history: Record<string, unknown>[] }>('GET', `/api/v1/workflow/runs/${encodeURIComponent(id)}/history`);
        if (client.json) client.print({ ...run, history: h.history });
        else {
          client.print(run);
          console.log();
          client.print(h.history, ['version', 'status', 'runState', 'reason', 'createdAt']);
        }
        return 0;
      }
      case 'await': {
        const id = need(positionals[0], 'a RUN id');
        const q = new URLSearchParams({ status: need(values.status, '--status'), timeout: values.timeout ?? '30s' });
        const run = await client.request<Record<string, unknown>>('GET', `/api/v1/workflow/runs/${encodeURIComponent(id)}/await?${q}`);
        client.print(run);
        return 0;
      }
      case 'pause':
      case 'resume':
      case 'cancel': {
        const id = need(positionals[0], 'a RUN id');
        const run = await client.request<Record<string, unknown>>('POST', `/api/v1/workflow/runs/${encodeURIComponent(id)}/${cmd}`, values.reason ? { reason: values.reason } : {});
        client.print(run, undefined);
        return 0;
      }
      case 'callback': {
        const id = need(positionals[0], 'a RUN id');
        const at = need(values.status, '--status (the status the run waits at)');
        const run = await client.request<Record<string, unknown>>('POST', `/api/v1/workflow/runs/${encodeURIComponent(id)}/callback/${encodeURIComponent(at)}`, { status: need(values.to, '--to'), object: parseJson('object', values.object) });
        client.print(run);
        return 0;
      }
      default:
        console.error(cmd ? `capstan: unknown workflow command '${cmd}'\n${USAGE}` : USAGE);
        return 2;
    }
  } catch (err) {
    if (err instanceof Usage || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`capstan: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}
