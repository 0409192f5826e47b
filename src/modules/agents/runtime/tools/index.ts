/** The built-in tools and which of them an agent gets (allow and deny lists; swarm tools only in a swarm). */
import * as z from 'zod';
import type { ToolDefinition } from '../../../../kernel/index.ts';
import type { AgentSpec } from '../../model/agent.ts';
import { runCommandTool } from './command.ts';
import type { Tool } from './context.ts';
import { fetchUrl } from './fetch.ts';
import { editFile, listFiles, readFile, writeFile } from './files.ts';
import { search } from './search.ts';
import { postMessage, readMessages } from './swarm.ts';
import { readSkill } from './skill.ts';

export type { Tool, ToolContext, SwarmChannel } from './context.ts';

/** The tool that ends the run: the loop handles it, no `run` needed. */
export const FINISH = 'finish';
const finishArgs = z.strictObject({ summary: z.string().describe('what you did, for the person who reads the result') });

const ALL: Tool[] = [readFile, writeFile, editFile, listFiles, search, runCommandTool, fetchUrl, readSkill, postMessage, readMessages];
const BY_NAME = new Map(ALL.map((t) => [t.name, t]));

/** A tool by name: built in (finish excluded), else one of the extensions' tools. */
export function toolNamed(name: string, extensionTools: Tool[] = []): Tool | undefined {
  return BY_NAME.get(name) ?? extensionTools.find((t) => t.name === name);
}

/**
 * Whether the agent may use `name`: finish always; swarm tools only in a swarm; fetch_url only with an allowlist; an
 * extension's tool while its extension is loaded; then the spec's allow and deny lists.
 */
export function toolAllowed(spec: AgentSpec, name: string, allowHosts: string[], extensionTools: Tool[] = []): boolean {
  if (name === FINISH) return true;
  if (!BY_NAME.has(name) && !extensionTools.some((t) => t.name === name)) return false;
  if ((name === 'post_message' || name === 'read_messages') && !spec.swarm) return false;
  if (name === 'fetch_url' && allowHosts.length === 0) return false;
  if (spec.tools.deny.includes(name)) return false;
  return spec.tools.allow === undefined || spec.tools.allow.includes(name);
}

/** The tool definitions sent to the model. */
export function toolDefinitions(spec: AgentSpec, allowHosts: string[], extensionTools: Tool[] = []): ToolDefinition[] {
  const defs: ToolDefinition[] = [...ALL, ...extensionTools].filter((t) => toolAllowed(spec, t.name, allowHosts, extensionTools)).map((t) => ({ name: t.name, description: t.description, parameters: t.parameters }));
  defs.push({ name: FINISH, description: 'Finish the task: your changes are committed on your branch and the summary is your result.', parameters: finishArgs });
  return defs;
}

/** The summary of a finish call's arguments. */
export function finishSummary(args: unknown): string {
  const r = finishArgs.safeParse(args);
  return r.success ? r.data.summary : typeof args === 'string' ? args : JSON.stringify(args ?? '');
}
