/** What a tool call sees: the worktree, the safety settings, the agent's process group and its swarm channel. */
import type { ToolDefinition } from '../../../../kernel/index.ts';
import type { ProcessGroup } from '../processes.ts';

/** A swarm's channel as a tool sees it. */
export interface SwarmChannel {
  post(text: string): Promise<void>;
  read(after: number): Promise<{ id: number; agentId: string; role: string; text: string }[]>;
}

/** Per-agent tool context. */
export interface ToolContext {
  agentId: string;
  /** The worktree (absolute). */
  root: string;
  deny: RegExp[];
  allowHosts: string[];
  commandTimeoutMs: number;
  outputCapBytes: number;
  processes: ProcessGroup;
  signal: AbortSignal;
  swarm?: SwarmChannel;
  /** A skill's instructions by name (read_skill). */
  skill?: (name: string) => string | undefined;
}

/** A tool: its definition for the model and what it does. Throwing Refusal refuses; other throws are errors told to the model. */
export interface Tool {
  name: string;
  description: string;
  /** A zod schema (built-in tools) or a JSON Schema object (extension tools). */
  parameters: ToolDefinition['parameters'];
  run(args: unknown, ctx: ToolContext): Promise<string>;
}
