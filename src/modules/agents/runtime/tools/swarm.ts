/** Swarm channel tools: post_message and read_messages, for agents of a swarm only. */
import * as z from 'zod';
import { Refusal } from '../refusal.ts';
import type { Tool, ToolContext } from './context.ts';

const postArgs = z.strictObject({ text: z.string().min(1).max(20_000) });
const readArgs = z.strictObject({ after: z.number().int().min(0).default(0).describe('only messages with a larger id') });

const channel = (ctx: ToolContext) => {
  if (!ctx.swarm) throw new Refusal('swarm_only', 'this agent is not part of a swarm');
  return ctx.swarm;
};

/** post_message */
export const postMessage: Tool = {
  name: 'post_message',
  description: "Post a note on your swarm's channel for the other agents (and the reducer or next stage).",
  parameters: postArgs,
  async run(raw, ctx) {
    await channel(ctx).post(postArgs.parse(raw).text);
    return 'posted';
  },
};

/** read_messages */
export const readMessages: Tool = {
  name: 'read_messages',
  description: "Read notes on your swarm's channel, oldest first.",
  parameters: readArgs,
  async run(raw, ctx) {
    const items = await channel(ctx).read(readArgs.parse(raw).after);
    return items.length === 0 ? 'no messages' : items.map((m) => `#${m.id} [${m.role} ${m.agentId}] ${m.text}`).join('\n');
  },
};
