/**
 * The cascades API's operations, declared once: the router registers them (routes.ts), the OpenAPI document is made
 * from them, and the CLI calls them typed (cli.ts), so the three cannot disagree. Bodies and queries are described
 * here and parsed by the handlers (jsonBody, queryOf): an empty body means {}.
 */
import * as z from 'zod';
import { defineRoute, documentedBody, documentedQuery, storableJson, storableText } from '../../../kernel/index.ts';
import { nameSchema } from '../model/definition.ts';
import { SESSION_STATUSES } from '../model/session.ts';

export const runBody = z.strictObject({ inputs: z.record(z.string(), storableJson).default({}) });
export const cancelBody = z.strictObject({ reason: storableText(z.string().max(500)).optional() });
export const signalBody = z.strictObject({ text: storableText(z.string().min(1).max(10_000)) });
export const respondBody = z.strictObject({ text: storableText(z.string().max(100_000)).optional(), value: storableJson.optional() }).refine((b) => b.text !== undefined || b.value !== undefined, { message: 'give text or value', path: ['text'] });
export const sessionsQuery = z.strictObject({ status: z.enum(SESSION_STATUSES).optional(), cascade: nameSchema.optional(), parent: z.string().min(1).max(1000).optional(), limit: z.coerce.number().int().min(1).max(1000).optional() });
export const logsQuery = z.strictObject({ after: z.coerce.number().int().min(0).optional(), limit: z.coerce.number().int().min(1).max(1000).optional() });
export const checkpointsQuery = z.strictObject({ status: z.enum(['pending', 'answered', 'timed_out', 'cancelled']).optional() });
const idParam = z.object({ id: z.string().min(1) });
const artifactParams = z.object({ id: z.string().min(1), name: z.string().min(1).max(200) });
const artifactList = z.object({ items: z.array(z.object({ name: z.string(), contentType: z.string(), size: z.number(), createdAt: z.string() })) });
const ok = (description: string) => ({ description, content: { 'application/json': { schema: z.any() } } });
// Generic, so each answer keeps its schema's type for the typed client.
const json = <S extends z.ZodType>(schema: S, description: string) => ({ description, content: { 'application/json': { schema } } });

// The answers the CLI reads, stated as far as it reads them (passthrough: the server says more).
const rows = z.object({ items: z.array(z.record(z.string(), z.unknown())) });
const sessionStarted = z.object({ sessionId: z.string() }).passthrough();
const sessionAnswer = z.object({ status: z.string(), error: z.string().nullish(), outputs: z.unknown(), cost: z.number() }).passthrough();
// A soundings attempt's rows carry its index: its tool calls (kind 'tool'), then its result (kind 'sounding', with the winner flag).
const logRow = z
  .object({
    id: z.number(),
    phase: z.string().nullish(),
    turn: z.number().nullish().describe('the LLM turn; for soundings rows the round (1 = first attempts, 2.. = reforge rounds)'),
    kind: z.string().describe('phase, assistant, tool, validation, sounding, evaluator, error, ...'),
    soundingIndex: z.number().optional().describe('the soundings attempt the row belongs to (its tool calls and its result)'),
    winner: z.boolean().optional().describe("on a 'sounding' row: whether this attempt won"),
    model: z.string().optional(),
    content: z.unknown().optional().describe("kind 'tool': {name, arguments, ok, result}"),
  })
  .passthrough();
const logRows = z.object({ items: z.array(logRow) });
const recordingAnswer = z.object({ cascadeId: z.string(), status: z.string(), spec: z.record(z.string(), z.unknown()), outputs: z.record(z.string(), z.unknown()), recording: z.record(z.string(), z.unknown()) });

/** Every operation of /api/v1/cascades, by operationId. */
export const ops = {
  defineCascade: defineRoute({ method: 'post', path: '/definitions', operationId: 'defineCascade', summary: 'Create or update a cascade definition from YAML or JSON', request: { body: { required: true, content: { 'application/yaml': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object' } } } } }, responses: { 200: ok('a new version of an existing cascade'), 201: ok('the first version') } }),
  listCascadeDefinitions: defineRoute({ method: 'get', path: '/definitions', operationId: 'listCascadeDefinitions', summary: 'Every cascade definition', responses: { 200: json(rows, 'the definitions') } }),
  getCascadeDefinition: defineRoute({ method: 'get', path: '/definitions/{id}', operationId: 'getCascadeDefinition', summary: 'One cascade definition', errors: [404], request: { params: idParam }, responses: { 200: ok('the definition') } }),
  runCascade: defineRoute({ method: 'post', path: '/definitions/{id}/runs', operationId: 'runCascade', summary: 'Start a session of a cascade', errors: [404], request: { params: idParam, body: documentedBody(runBody) }, responses: { 201: json(sessionStarted, 'the new session') } }),
  listCascadeSessions: defineRoute({ method: 'get', path: '/sessions', operationId: 'listCascadeSessions', summary: 'Sessions, filtered by status, cascade or parent session', parameters: documentedQuery(sessionsQuery), errors: [400], responses: { 200: json(rows, 'the sessions') } }),
  getCascadeSession: defineRoute({ method: 'get', path: '/sessions/{id}', operationId: 'getCascadeSession', summary: 'One session with its phases and costs', errors: [404], request: { params: idParam }, responses: { 200: json(sessionAnswer, 'the session') } }),
  listCascadeSessionLogs: defineRoute({ method: 'get', path: '/sessions/{id}/logs', operationId: 'listCascadeSessionLogs', summary: "A page of a session's unified log", errors: [404], request: { params: idParam }, parameters: documentedQuery(logsQuery), responses: { 200: json(logRows, 'log entries after the given one') } }),
  getCascadeSessionRecording: defineRoute({ method: 'get', path: '/sessions/{id}/recording', operationId: 'getCascadeSessionRecording', summary: "An ended session's model replies and people's answers, with its definition (for snapshot tests)", errors: [404, 409], request: { params: idParam }, responses: { 200: json(recordingAnswer, 'the recording') } }),
  listCascadeSessionArtifacts: defineRoute({ method: 'get', path: '/sessions/{id}/artifacts', operationId: 'listCascadeSessionArtifacts', summary: "A session's artifacts (the browser tool's screenshots), oldest first", errors: [404], request: { params: idParam }, responses: { 200: json(artifactList, 'name, type, size and time of each') } }),
  getCascadeSessionArtifact: defineRoute({ method: 'get', path: '/sessions/{id}/artifacts/{name}', operationId: 'getCascadeSessionArtifact', summary: 'One artifact of a session, as the file it is', errors: [404], request: { params: artifactParams }, responses: { 200: { description: 'the file, with its content type (image/png for screenshots)', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } } } }),
  cancelCascadeSession: defineRoute({ method: 'post', path: '/sessions/{id}/cancel', operationId: 'cancelCascadeSession', summary: 'Cancel a session', errors: [404, 409], request: { params: idParam, body: documentedBody(cancelBody) }, responses: { 200: ok('the session after the change') } }),
  signalCascadeSession: defineRoute({ method: 'post', path: '/sessions/{id}/signal', operationId: 'signalCascadeSession', summary: 'Send a signal to a running session', errors: [404, 409], request: { params: idParam, body: documentedBody(signalBody, { required: true }) }, responses: { 202: ok('accepted') } }),
  listCascadeCheckpoints: defineRoute({ method: 'get', path: '/checkpoints', operationId: 'listCascadeCheckpoints', summary: 'Human checkpoints, by status', parameters: documentedQuery(checkpointsQuery), errors: [400], responses: { 200: json(rows, 'the checkpoints') } }),
  respondCascadeCheckpoint: defineRoute({ method: 'post', path: '/checkpoints/{id}/respond', operationId: 'respondCascadeCheckpoint', summary: 'Answer a human checkpoint', errors: [404, 409], request: { params: idParam, body: documentedBody(respondBody, { required: true }) }, responses: { 200: ok('the checkpoint after the answer') } }),
  streamCascadeSessionEvents: defineRoute({ method: 'get', path: '/sessions/{id}/events', operationId: 'streamCascadeSessionEvents', summary: "A session's events as SSE until it ends", errors: [404], request: { params: idParam }, responses: { 200: { description: 'one JSON event envelope per data line', content: { 'text/event-stream': { schema: { type: 'string' } } } } } }),
};
