/** @jsxImportSource hono/jsx */
/** The workflow console pages, mounted by the kernel at /ui/workflow behind the console's sign-in and scope check. */
import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import { Invalid, NotFound, type AppEnv } from '../../../kernel/index.ts';
import { RUN_STATES, type RunState } from '../model/run-state.ts';
import type { WorkflowService } from '../service.ts';
import type { StoredDefinition } from '../store/index.ts';
import { DefinitionsPage, type DefinitionEntry } from './definitions-page.tsx';
import { viewOf } from './definition-view.ts';
import { toRunRow } from './run-row.ts';
import { RunPage } from './run-page.tsx';
import { parseRunsFilter, runsHref, toListQuery, type RunsFilter } from './runs-filter.ts';
import { RunsPage, type RunsPageData } from './runs-page.tsx';

/** What the pages read. */
export interface WorkflowUiDeps {
  service: WorkflowService;
  countByRunState(workflow?: string): Promise<Record<RunState, number>>;
  /** countByRunState of every workflow with runs, in one read. */
  countByWorkflowAndRunState(): Promise<Record<string, Record<RunState, number>>>;
  /** Saved definitions with their specs, by name. */
  definitions(): Promise<StoredDefinition[]>;
  /** Definitions load asynchronously at start; pages wait for them like the API does. */
  ready: Promise<void>;
}

/** Builds the /ui/workflow router. */
export function workflowUi(deps: WorkflowUiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', async (_c, next) => {
    await deps.ready;
    await next();
  });

  /** One page of runs plus the counts; a refused filter or cursor is shown, not thrown. */
  async function runsData(query: Record<string, string>): Promise<RunsPageData> {
    const parsed = parseRunsFilter(query);
    const filter: RunsFilter = parsed.filter;
    const [counts, workflows] = await Promise.all([deps.countByRunState(filter.workflow), deps.service.listDefinitions()]);
    const data: RunsPageData = { filter, rows: [], nextHref: null, counts, workflows: workflows.map((w) => w.name), error: parsed.error };
    if (parsed.error) return data;
    try {
      const page = await deps.service.listRuns(toListQuery(filter));
      data.rows = page.runs.map(toRunRow);
      data.nextHref = page.nextCursor ? runsHref({ ...filter, cursor: page.nextCursor }) : null;
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      data.error = err.message;
    }
    return data;
  }

  app.get('/', async (c) => {
    const data = await runsData(c.req.query());
    return page(c, 'Workflow runs', <RunsPage data={data} />, data.error ? 400 : 200);
  });

  // The live refresh of the runs page: the same data as JSON (rows carry no object).
  app.get('/runs.json', async (c) => {
    const d = await runsData(c.req.query());
    return c.json({ runs: d.rows, nextHref: d.nextHref, counts: d.counts, error: d.error ?? null }, d.error ? 400 : 200);
  });

  app.get('/runs/:runId', async (c) => {
    const runId = c.req.param('runId');
    let run;
    try {
      run = await deps.service.getRun(runId);
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
      return page(c, 'Run not found', <Missing what="run" id={runId} />, 404);
    }
    const [history, definition] = await Promise.all([
      deps.service.history(runId),
      // Code-defined workflows have no saved definition; the page says so instead of failing.
      deps.service.getDefinition(run.workflow).then(viewOf, (err) => {
        if (err instanceof NotFound) return null;
        throw err;
      }),
    ]);
    return page(c, `Run ${run.foreignId}`, <RunPage data={{ run, history, definition }} />);
  });

  /** Entries of the definitions page, with zero counts for definitions that have no runs. */
  async function definitionEntries(only?: string): Promise<DefinitionEntry[]> {
    const [saved, counts] = await Promise.all([deps.definitions(), deps.countByWorkflowAndRunState()]);
    const zero = Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>;
    return saved.filter((d) => only === undefined || d.name === only).map((d) => ({ view: viewOf(d), counts: counts[d.name] ?? zero }));
  }

  app.get('/definitions', async (c) => page(c, 'Workflow definitions', <DefinitionsPage entries={await definitionEntries()} />));

  app.get('/definitions/:name', async (c) => {
    const name = c.req.param('name');
    const entries = await definitionEntries(name);
    if (entries.length === 0) return page(c, 'Definition not found', <Missing what="definition" id={name} />, 404);
    return page(c, `Workflow ${name}`, <DefinitionsPage entries={entries} single />);
  });

  return app;
}

/** Renders through the console's frame (set by the kernel on every module page). */
function page(c: Context<AppEnv>, title: string, body: Child, status: 200 | 400 | 404 = 200) {
  const render = c.get('renderPage');
  if (!render) throw new Error('workflow pages must be mounted by the kernel console (no renderPage on the request)');
  return render({ title, status }, body);
}

/** The body for an unknown run id or definition name. */
function Missing(props: { what: 'run' | 'definition'; id: string }) {
  const all = props.what === 'run' ? { href: '/ui/workflow', text: 'All runs' } : { href: '/ui/workflow/definitions', text: 'All definitions' };
  return (
    <main>
      <section>
        <h2>{props.what === 'run' ? 'Run' : 'Definition'} not found</h2>
        <p>
          No {props.what} {props.what === 'run' ? 'has the id' : 'is named'} <code>{props.id}</code>. <a href={all.href}>{all.text}</a>
        </p>
      </section>
    </main>
  );
}
