/** /api/v1/agents/agents and /tasks: spawn, list, show, pause, resume, kill, logs (SSE with follow=1), diff, audit. */
import { createRouter, Invalid, sseResponse, zodIssues, type ApiRouter, type EventBus } from '../../../kernel/index.ts';
import { TERMINAL, type Agent } from '../model/agent.ts';
import type { AgentService } from '../service.ts';
import { killBody, ops } from './operations.ts';

const FOLLOW_POLL_MS = 1_000;

/** The agent as the API shows it. */
export const agentView = (a: Agent) => ({ ...a, task: a.spec.task, model: a.spec.model, priority: a.spec.priority, labels: a.spec.labels, budget: a.spec.budget });

/** Routes under /api/v1/agents for single agents and the task queue. */
export function agentRoutes(app: ApiRouter, svc: AgentService, bus: EventBus): void {
  app.openapi(ops.spawnAgent, async (c) => {
    const a = await svc.spawn(c.req.valid('json'));
    return c.json(agentView(a), 201);
  });
  app.openapi(ops.listAgents, async (c) => {
    const q = c.req.valid('query');
    return c.json({ items: (await svc.store.list(q)).map(agentView) });
  });
  app.openapi(ops.getAgent, async (c) => c.json(agentView(await svc.store.get(c.req.valid('param').id))));
  app.openapi(ops.pauseAgent, async (c) => c.json(agentView(await svc.pause(c.req.valid('param').id))));
  app.openapi(ops.resumeAgent, async (c) => c.json(agentView(await svc.resume(c.req.valid('param').id))));
  app.openapi(ops.killAgent, async (c) => {
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
  app.openapi(ops.getAgentDiff, async (c) => {
    const id = c.req.valid('param').id;
    const a = await svc.store.get(id);
    return c.json({ agentId: id, branch: a.branch, baseSha: a.baseSha, commitSha: a.commitSha, diff: await svc.diff(id) });
  });
  app.openapi(ops.getAgentAudit, async (c) => {
    const id = c.req.valid('param').id;
    await svc.store.get(id);
    return c.json({ items: await svc.store.auditLog(id) });
  });
  app.openapi(ops.listAgentsAudit, async (c) => c.json({ items: await svc.store.auditLog() }));

  // A page of the log, or (follow=1) SSE: every row from `after` on, then new ones until the agent ends (event `end`).
  app.openapi(ops.getAgentLogs, async (c) => {
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
  app.openapi(ops.createAgentTask, async (c) => c.json(agentView(await svc.spawn(c.req.valid('json'))), 201));
  app.openapi(ops.listAgentTasks, async (c) => {
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
