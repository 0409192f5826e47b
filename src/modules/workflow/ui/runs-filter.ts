/** The runs page's filter form: parsed from the query string (blank fields mean "any"), and turned back into links. */
import * as z from 'zod';
import { RUN_STATES, type RunState } from '../model/run-state.ts';
import type { ListRunsQuery } from '../store/index.ts';

/** Rows per page of the console's run table. */
export const PAGE_SIZE = 50;

// A GET form sends every field, empty ones as ''; those mean "no filter".
const field = (max: number) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v), z.string().max(max).optional());

const filterSchema = z.object({
  workflow: field(64),
  status: field(100),
  runState: z.preprocess((v) => (v === '' ? undefined : v), z.enum(RUN_STATES).optional()),
  foreignId: field(200),
  cursor: field(500),
});

/** What the form holds (and the page shows). */
export interface RunsFilter {
  workflow?: string;
  status?: string;
  runState?: RunState;
  foreignId?: string;
  cursor?: string;
}

/** Parses the page's query; `error` names the field that was refused (the page then shows no runs). */
export function parseRunsFilter(query: Record<string, string>): { filter: RunsFilter; error?: string } {
  const r = filterSchema.safeParse(query);
  if (r.success) return { filter: r.data };
  const issue = r.error.issues[0];
  return { filter: {}, error: `${issue?.path.join('.') ?? 'query'}: ${issue?.message ?? 'invalid'}` };
}

/** The store query of a filter: newest first, one page. */
export function toListQuery(f: RunsFilter): ListRunsQuery {
  return { workflow: f.workflow, status: f.status, runState: f.runState, foreignId: f.foreignId, cursor: f.cursor, order: 'desc', limit: PAGE_SIZE };
}

/** A link to the runs page with these filters (blank ones left out). */
export function runsHref(f: RunsFilter): string {
  const params = new URLSearchParams();
  for (const key of ['workflow', 'status', 'runState', 'foreignId', 'cursor'] as const) {
    const v = f[key];
    if (v) params.set(key, v);
  }
  const qs = params.toString();
  return qs ? `/ui/workflow?${qs}` : '/ui/workflow';
}
