/** The provider's answer read off the wire (non-streamed body or assembled stream), before tool arguments are parsed. */
import * as z from 'zod';
import type { Usage } from '../model/usage.ts';

/** A tool call as the provider sent it: arguments still JSON text. */
export interface RawToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** One completion as read from the provider. */
export interface Completion {
  id: string;
  content: string | null;
  toolCalls: RawToolCall[];
  finishReason: string;
  usage: Usage;
}

/** The `usage` object of OpenAI-compatible answers (null or absent when a server does not count). */
export const wireUsage = z
  .object({ prompt_tokens: z.number().nonnegative(), completion_tokens: z.number().nonnegative(), total_tokens: z.number().nonnegative().optional() })
  .nullish();

/** Provider usage in Capstan's shape. */
export function usageOf(u: z.output<typeof wireUsage>): Usage {
  if (!u) return { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  return { inputTokens: u.prompt_tokens, outputTokens: u.completion_tokens, totalTokens: u.total_tokens ?? u.prompt_tokens + u.completion_tokens };
}

// Some servers (older Ollama builds) send arguments as an object instead of JSON text; keep it as text either way.
const wireArguments = z.union([z.string(), z.record(z.string(), z.unknown())]).transform((a) => (typeof a === 'string' ? a : JSON.stringify(a)));

const wireCompletion = z.object({
  id: z.string().default(''),
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullish(),
          tool_calls: z.array(z.object({ id: z.string(), function: z.object({ name: z.string(), arguments: wireArguments.default('') }) })).nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1, 'has no choices'),
  usage: wireUsage,
});

/** Reads a non-streamed body: `[reason]` if it is not a chat completion, `[undefined, completion]` otherwise. */
export function parseCompletion(body: unknown): [string] | [undefined, Completion] {
  const parsed = wireCompletion.safeParse(body);
  if (!parsed.success) return [parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')];
  const d = parsed.data;
  const choice = d.choices[0]!;
  return [
    undefined,
    {
      id: d.id,
      content: choice.message.content ?? null,
      toolCalls: (choice.message.tool_calls ?? []).map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })),
      finishReason: choice.finish_reason ?? 'stop',
      usage: usageOf(d.usage),
    },
  ];
}
