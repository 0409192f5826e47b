/** /api/v1/agents/swarms: create (YAML or JSON), list, show (with agents and channel), kill. */
import type { Context } from 'hono';
import { parse as parseYaml } from 'yaml';
import { CapstanError, Invalid, zodIssues, type ApiRouter, type AppEnv } from '../../../kernel/index.ts';
import { swarmSchema, type SwarmSpec } from '../model/swarm.ts';
import type { SwarmEngine } from '../runtime/swarm-engine.ts';
import type { AgentStore, SwarmStore } from '../store/index.ts';
import { agentView } from './agent-routes.ts';
import { ops } from './operations.ts';

/** Reads a swarm definition from a YAML or JSON body; Invalid names `body.<field>`. */
async function definition(c: Context<AppEnv>): Promise<SwarmSpec> {
  const media = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const text = await c.req.text();
  let raw: unknown;
  try {
    if (/^application\/([\w.-]+\+)?json$/.test(media)) raw = JSON.parse(text);
    else if (media === '' || /^(application|text)\/(x-)?yaml$/.test(media) || media === 'text/plain') raw = parseYaml(text);
    else throw new CapstanError('UnsupportedMediaType', 415, `send a swarm as application/yaml or application/json, not ${media}`, { errors: [{ path: 'header.content-type', message: 'application/yaml or application/json' }] });
  } catch (err) {
    if (err instanceof CapstanError) throw err;
    throw new Invalid('the body is neither YAML nor JSON', [{ path: 'body', message: (err as Error).message.split('\n')[0]! }]);
  }
  const parsed = swarmSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new Invalid('invalid swarm definition', zodIssues(parsed.error, 'body'));
  return parsed.data;
}

/** Adds the swarm routes to the module's router. */
export function swarmRoutes(engine: SwarmEngine, swarms: SwarmStore, agents: AgentStore) {
  return (app: ApiRouter): void => {
    app.openapi(ops.createSwarm, async (c: Context<AppEnv>) => c.json(await engine.create(await definition(c)), 201));
    app.openapi(ops.listSwarms, async (c) => c.json({ items: (await swarms.list()).map(({ spec: _spec, ...s }) => s) }));
    app.openapi(ops.getSwarm, async (c) => {
      const id = c.req.valid('param').id;
      const s = await swarms.get(id);
      const members = await agents.list({ swarm: id, limit: 10_000 });
      return c.json({ ...s, agents: members.map((a) => ({ key: a.spec.swarm?.key, role: a.spec.swarm?.role, ...agentView(a) })), messages: await swarms.messages(id, 0, 1_000) });
    });
    app.openapi(ops.killSwarm, async (c) => c.json(await engine.kill(c.req.valid('param').id)));
  };
}
