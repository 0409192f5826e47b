/**
 * The agents API's operations, declared once: the routers register them (agent-, swarm-, skill- and
 * extension-routes.ts), the OpenAPI document is made from them, and the CLI calls them typed (cli.ts), so the three
 * cannot disagree.
 */
import { z } from '@hono/zod-openapi';
import { defineRoute, storableText } from '../../../kernel/index.ts';
import { AGENT_STATUSES, spawnSchema } from '../model/agent.ts';

const idParam = z.object({ id: storableText(z.string().min(1).max(100)) });
const listQuery = z.strictObject({ status: z.enum(AGENT_STATUSES).optional(), swarm: storableText(z.string().max(100)).optional(), limit: z.coerce.number().int().min(1).max(1000).optional() });
const logsQuery = z.strictObject({ after: z.coerce.number().int().min(0).optional(), limit: z.coerce.number().int().min(1).max(1000).optional(), follow: z.enum(['0', '1', 'true', 'false']).optional() });
/** The optional body of a kill (read by hand in agent-routes.ts: an empty body means none). */
export const killBody = z.strictObject({ reason: storableText(z.string().max(500)).optional() });
const commandParam = z.object({ name: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'a command name: lower-case letters, digits and -') });
const commandBody = z.strictObject({ argv: z.array(storableText(z.string().max(10_000))).max(200).default([]) });
const ok = (description: string) => ({ description, content: { 'application/json': { schema: z.any() } } });
// Generic, so each answer keeps its schema's type for the typed client.
const json = <S extends z.ZodType>(schema: S, description: string) => ({ description, content: { 'application/json': { schema } } });

// The answers the CLI reads, stated as far as it reads them (passthrough: the server says more).
const rows = z.object({ items: z.array(z.record(z.string(), z.unknown())) });
const agentAnswer = z.object({ id: z.string(), status: z.string() }).passthrough();
const logRows = z.object({ items: z.array(z.object({ id: z.number(), turn: z.number(), kind: z.string(), content: z.unknown().optional() }).passthrough()) });
const swarmAnswer = z.object({ id: z.string(), status: z.string() }).passthrough();
const diffAnswer = z.object({ diff: z.string() }).passthrough();
const tasksAnswer = z.object({ items: z.array(z.object({ dependsOn: z.array(z.string()) }).passthrough()) });
const commandAnswer = z.object({ exitCode: z.number().int(), output: z.array(z.string()) });

/** Every operation of /api/v1/agents, by operationId. */
export const ops = {
  spawnAgent: defineRoute({ method: 'post', path: '/agents', operationId: 'spawnAgent', summary: 'Spawn an agent on a task in a new git worktree', errors: [400], request: { body: { content: { 'application/json': { schema: spawnSchema } }, required: true } }, responses: { 201: json(agentAnswer, 'the queued agent') } }),
  listAgents: defineRoute({ method: 'get', path: '/agents', operationId: 'listAgents', summary: 'Agents, newest first', request: { query: listQuery }, responses: { 200: json(rows, 'the agents') } }),
  getAgent: defineRoute({ method: 'get', path: '/agents/{id}', operationId: 'getAgent', summary: 'One agent: state, turn, cost, result', errors: [404], request: { params: idParam }, responses: { 200: json(agentAnswer, 'the agent') } }),
  pauseAgent: defineRoute({ method: 'post', path: '/agents/{id}/pause', operationId: 'pauseAgent', summary: 'Pause an agent after its current turn', errors: [404, 409], request: { params: idParam }, responses: { 200: json(agentAnswer, 'the agent') } }),
  resumeAgent: defineRoute({ method: 'post', path: '/agents/{id}/resume', operationId: 'resumeAgent', summary: 'Resume a paused agent from its last turn', errors: [404, 409], request: { params: idParam }, responses: { 200: json(agentAnswer, 'the agent') } }),
  killAgent: defineRoute({ method: 'post', path: '/agents/{id}/kill', operationId: 'killAgent', summary: 'Kill an agent: its LLM call and tool processes stop', errors: [404, 409], request: { params: idParam, body: { content: { 'application/json': { schema: killBody } }, required: false } }, responses: { 200: json(agentAnswer, 'the agent') } }),
  getAgentDiff: defineRoute({ method: 'get', path: '/agents/{id}/diff', operationId: 'getAgentDiff', summary: "The agent's changes against its base commit", errors: [404], request: { params: idParam }, responses: { 200: json(diffAnswer, 'the diff as text in `diff`') } }),
  getAgentAudit: defineRoute({ method: 'get', path: '/agents/{id}/audit', operationId: 'getAgentAudit', summary: 'Safety refusals of one agent', errors: [404], request: { params: idParam }, responses: { 200: json(rows, 'the refusals') } }),
  listAgentsAudit: defineRoute({ method: 'get', path: '/audit', operationId: 'listAgentsAudit', summary: 'Safety refusals of all agents, newest first', responses: { 200: json(rows, 'the refusals') } }),
  getAgentLogs: defineRoute({ method: 'get', path: '/agents/{id}/logs', operationId: 'getAgentLogs', summary: "An agent's turns and tool calls; SSE with follow=1", errors: [404], request: { params: idParam, query: logsQuery }, responses: { 200: { description: 'log rows (JSON), or one SSE frame per row and `end` when the agent ended', content: { 'application/json': { schema: logRows }, 'text/event-stream': { schema: z.string() } } } } }),
  createAgentTask: defineRoute({ method: 'post', path: '/tasks', operationId: 'createAgentTask', summary: 'Queue a task (an agent with a priority and dependencies)', errors: [400], request: { body: { content: { 'application/json': { schema: spawnSchema } }, required: true } }, responses: { 201: ok('the queued task') } }),
  listAgentTasks: defineRoute({ method: 'get', path: '/tasks', operationId: 'listAgentTasks', summary: 'Tasks not ended, by priority then age', responses: { 200: json(tasksAnswer, 'the tasks') } }),
  listAgentExtensions: defineRoute({ method: 'get', path: '/extensions', operationId: 'listAgentExtensions', summary: 'Extension files: what each registered, or why it was skipped', responses: { 200: json(rows, 'the extensions') } }),
  runAgentExtensionCommand: defineRoute({ method: 'post', path: '/extensions/commands/{name}', operationId: 'runAgentExtensionCommand', summary: "Run an extension's command on the server (capstan agents ext NAME ...)", errors: [400, 404], request: { params: commandParam, body: { content: { 'application/json': { schema: commandBody } }, required: true } }, responses: { 200: json(commandAnswer, 'its exit code and output') } }),
  listAgentSkills: defineRoute({ method: 'get', path: '/skills', operationId: 'listAgentSkills', summary: 'Skills agents can use (built-in and from the skill folders)', responses: { 200: { description: 'the skills and the broken SKILL.md files', content: { 'application/json': { schema: rows.passthrough() } } } } }),
  createSwarm: defineRoute({ method: 'post', path: '/swarms', operationId: 'createSwarm', summary: 'Create a swarm (parallel, pipeline, map-reduce or tree) from YAML or JSON', errors: [400, 415], request: { body: { required: true, content: { 'application/yaml': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object' } } } } }, responses: { 201: json(swarmAnswer, 'the running swarm') } }),
  listSwarms: defineRoute({ method: 'get', path: '/swarms', operationId: 'listSwarms', summary: 'Swarms, newest first', responses: { 200: json(rows, 'the swarms') } }),
  getSwarm: defineRoute({ method: 'get', path: '/swarms/{id}', operationId: 'getSwarm', summary: 'One swarm: status, result, its agents and channel', errors: [404], request: { params: idParam }, responses: { 200: json(swarmAnswer, 'the swarm') } }),
  killSwarm: defineRoute({ method: 'post', path: '/swarms/{id}/kill', operationId: 'killSwarm', summary: 'Kill a swarm and its agents', errors: [404], request: { params: idParam }, responses: { 200: ok('the swarm') } }),
};
