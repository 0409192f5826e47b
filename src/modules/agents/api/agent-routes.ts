/** /api/v1/agents/agents and /tasks: spawn, list, show, pause, resume, kill, logs (SSE with follow=1), diff, audit. */
import { z } from '@hono/zod-openapi';
import { createRouter, defineRoute, Invalid, sseResponse, storableText, zodIssues, type ApiRouter, type EventBus } from '../../../kernel/index.ts';
import { AGENT_STATUSES, spawnSchema, TERMINAL, type Agent } from '../model/agent.ts';
import type { AgentService } from '../service.ts';

const idParam = z.object({ id: storableText(z.string().min(1).max(100)) });
const listQuery = z.strictObject({ status: z.enum(AGENT_STATUSES).optional(), swarm: storableText(z.string().max(100)).optional(), limit: z.coerce.number().int().min(1).max(1000).optional() });
const logsQuery = z.strictObject({ after: z.coerce.number().int().min(0).optional(), limit: z.coerce.number().int().min(1).max(1000).optional(), follow: z.enum(['0', '1', 'true', 'false']).optional() });
const killBody = z.strictObject({ reason: storableText(z.string().max(500)).optional() });
const ok = (description: string) => ({ description, content: { 'application/json': { schema: z.any() } } });
const FOLLOW_POLL_MS = 1_000;

/** The agent as the API shows it. */
export const agentView = (a: Agent) => ({ ...a, task: a.spec.task, model: a.spec.model, priority: a.spec.priority, labels: a.spec.labels, budget: a.spec.budget });

/** Routes under /api/v1/agents for single agents and the task queue. */
export function agentRoutes(app: ApiRouter, svc: AgentService, bus: EventBus): void {
  app.openapi(defineRoute({ method: 'post', path: '/agents', operationId: 'spawnAgent', summary: 'Spawn an agent on a task in a new git worktree', errors: [400], request: { body: { content: { 'application/json': { schema: spawnSchema } }, required: true } }, responses: { 201: ok('the queued agent') } }), async (c) => {
    const a = await svc.spawn(c.req.valid('json'));
    return c.json(agentView(a), 201);
  });
  app.openapi(defineRoute({ method: 'get', path: '/agents', operationId: 'listAgents', summary: 'Agents, newest first', request: { query: listQuery }, responses: { 200: ok('the agents') } }), async (c) => {
    const q = c.req.valid('query');
    return c.json({ items: (await svc.store.list(q)).map(agentView) });
  });
  app.openapi(defineRoute({ method: 'get', path: '/agents/{id}', operationId: 'getAgent', summary: 'One agent: state, turn, cost, result', errors: [404], request: { params: idParam }, responses: { 200: ok('the agent') } }), async (c) => c.json(agentView(await svc.store.get(c.req.valid('param').id))));
  app.openapi(defineRoute({ method: 'post', path: '/agents/{id}/pause', operationId: 'pauseAgent', summary: 'Pause an agent after its current turn', errors: [404, 409], request: { params: idParam }, responses: { 200: ok('the agent') } }), async (c) => c.json(agentView(await svc.pause(c.req.valid('param').id))));
  app.openapi(defineRoute({ method: 'post', path: '/agents/{id}/resume', operationId: 'resumeAgent', summary: 'Resume a paused agent from its last turn', errors: [404, 409], request: { params: idParam }, responses: { 200: ok('the agent') } }), async (c) => c.json(agentView(await svc.resume(c.req.valid('param').id))));
  app.openapi(defineRoute({ method: 'post', path: '/agents/{id}/kill', operationId: 'killAgent', summary: 'Kill an agent: its LLM call and tool processes stop', errors: [404, 409], request: { params: idParam, body: { content: { 'application/json': { schema: killBody } }, required: false } }, responses: { 200: ok('the agent') } }), async (c) => {
    const raw = await c.req.text();
    let value: unknown = {};
    try {
      if (raw.trim()) value = JSON.parse(raw);
    } catch (err) {
      throw new Invalid('the body is not valid JSON', [{ path: 'body', message: (err as Error).message }]);
    }
    const body = killBody.safeParse(value);
    if (!body.success) throw new Invalid('invalid request body', zodIssues(body.error, 'body'));
    return c.json(agentView(await svc.kill(c.req.valid('param').id, body.data.reason)));
  });
  app.openapi(defineRoute({ method: 'get', path: '/agents/{id}/diff', operationId: 'getAgentDiff', summary: "The agent's changes against its base commit", errors: [404], request: { params: idParam }, responses: { 200: ok('the diff as text in `diff`') } }), async (c) => {
    const id = c.req.valid('param').id;
    const a = await svc.store.get(id);
    return c.json({ agentId: id, branch: a.branch, baseSha: a.baseSha, commitSha: a.commitSha, diff: await svc.diff(id) });
  });
  app.openapi(defineRoute({ method: 'get', path: '/agents/{id}/audit', operationId: 'getAgentAudit', summary: 'Safety refusals of one agent', errors: [404], request: { params: idParam }, responses: { 200: ok('the refusals') } }), async (c) => {
    const id = c.req.valid('param').id;
    await svc.store.get(id);
    return c.json({ items: await svc.store.auditLog(id) });
  });
  app.openapi(defineRoute({ method: 'get', path: '/audit', operationId: 'listAgentsAudit', summary: 'Safety refusals of all agents, newest first', responses: { 200: ok('the refusals') } }), async (c) => c.json({ items: await svc.store.auditLog() }));

  // A page of the log, or (follow=1) SSE: every row from `after` on, then new ones until the agent ends (event `end`).
  app.openapi(defineRoute({ method: 'get', path: '/agents/{id}/logs', operationId: 'getAgentLogs', summary: "An agent's turns and tool calls; SSE with follow=1", errors: [404], request: { params: idParam, query: logsQuery }, responses: { 200: { description: 'log rows (JSON), or one SSE frame per row and `end` when the agent ended', content: { 'application/json': { schema: z.any() }, 'text/event-stream': { schema: z.string() } } } } }), async (c) => {
    const id = c.req.valid('param').id;
    const q = c.req.valid('query');
    await svc.store.get(id);
    if (q.follow !== '1' && q.follow !== 'true') return c.json({ items: await svc.store.logs(id, q.after ?? 0, q.limit ?? 500) });
    return sseResponse(c, {
      subscribe: async (send) => {
        let after = q.after ?? 0;
        let stopped = false;
        let wake: (() => void) | undefined;
        const sub = await bus.subscribe('agents.agent.>', (e) => {
          if ((e.data as { agentId?: unknown } | null)?.agentId === id) wake?.();
        });
        void (async () => {
          while (!stopped) {
            // Status before rows: an agent that ended in between still has every row sent before `end`.
            const a = await svc.store.get(id);
            for (const row of await svc.store.logs(id, after, 500)) {
              after = row.id;
              send({ id: String(row.id), data: JSON.stringify(row) });
            }
            if (TERMINAL.has(a.status)) {
              send({ event: 'end', data: JSON.stringify({ agentId: id, status: a.status, result: a.result, error: a.error }) });
              return;
            }
            await new Promise<void>((r) => {
              const t = setTimeout(r, FOLLOW_POLL_MS);
              wake = () => (clearTimeout(t), r());
            });
          }
        })().catch(() => undefined);
        return async () => {
          stopped = true;
          wake?.();
          await sub.unsubscribe();
        };
      },
    });
  });

  // The task queue: agents not ended, in the order workers take them (priority, then age).
  app.openapi(defineRoute({ method: 'post', path: '/tasks', operationId: 'createAgentTask', summary: 'Queue a task (an agent with a priority and dependencies)', errors: [400], request: { body: { content: { 'application/json': { schema: spawnSchema } }, required: true } }, responses: { 201: ok('the queued task') } }), async (c) => c.json(agentView(await svc.spawn(c.req.valid('json'))), 201));
  app.openapi(defineRoute({ method: 'get', path: '/tasks', operationId: 'listAgentTasks', summary: 'Tasks not ended, by priority then age', responses: { 200: ok('the tasks') } }), async (c) => {
    const items = (await svc.store.list({ limit: 1000 })).filter((a) => !TERMINAL.has(a.status)).sort((x, y) => PRIORITY_ORDER(x) - PRIORITY_ORDER(y) || x.createdAt.localeCompare(y.createdAt));
    return c.json({ items: items.map((a) => ({ id: a.id, status: a.status, priority: a.spec.priority, dependsOn: a.spec.dependsOn, task: a.spec.task, createdAt: a.createdAt })) });
  });
}

const ORDER = { critical: 0, high: 1, normal: 2, low: 3 } as const;
const PRIORITY_ORDER = (a: Agent) => ORDER[a.spec.priority];

/** The module's router. */
export function agentsRoutes(svc: AgentService, bus: EventBus, more: ((app: ApiRouter) => void)[] = []): ApiRouter {
  const app = createRouter('agents');
  agentRoutes(app, svc, bus);
  for (const add of more) add(app);
  return app;
}
