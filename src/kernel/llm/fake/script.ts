/** The fake LLM server's script: scripted replies matched in order or by rule, per session when a session header is named. */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { Invalid } from '../../errors.ts';
import { zodIssues } from '../../validation.ts';

const toolCall = z.strictObject({
  id: z.string().optional(),
  name: z.string().min(1),
  /** Arguments as a value (sent as its JSON text). */
  arguments: z.unknown().optional(),
  /** Arguments as raw text, sent as is: the way to script a malformed tool call. */
  rawArguments: z.string().optional(),
});

/** When a reply applies; every given rule must hold. */
const match = z.strictObject({
  /** Substring of the last user message, or a regular expression written `/.../flags`. */
  lastUser: z.string().optional(),
  /** Request headers that must have exactly these values (names case-insensitive). */
  header: z.record(z.string(), z.string()).optional(),
  /** The requested model must be this one. */
  model: z.string().optional(),
});

/** One scripted reply. Without text, json, toolCalls, error or malformed it echoes the last user message. */
export const replySchema = z
  .strictObject({
    match: match.optional(),
    /** How many requests this reply answers (default 1); `always` never runs out. */
    times: z.union([z.number().int().positive(), z.literal('always')]).default(1),
    text: z.string().optional(),
    /** Structured output: the content is this value's JSON text. */
    json: z.unknown().optional(),
    toolCalls: z.array(toolCall).min(1).optional(),
    /** An HTTP error answer, e.g. `{status: 429, retryAfter: 1}`; `retryAfter` is seconds or an HTTP date. */
    error: z
      .strictObject({
        status: z.number().int().min(400).max(599),
        message: z.string().optional(),
        retryAfter: z.union([z.number().nonnegative(), z.string()]).optional(),
        retryAfterMs: z.number().int().nonnegative().optional(),
      })
      .optional(),
    /** A 200 whose body is not a chat completion. */
    malformed: z.boolean().optional(),
    /** Extra wait before answering, on top of the server's latency. */
    delayMs: z.number().int().nonnegative().optional(),
    /** Streams: pause between chunks. */
    chunkDelayMs: z.number().int().nonnegative().optional(),
    /** Streams: characters of text per chunk (default 8). */
    chunkChars: z.number().int().positive().optional(),
    /** Never finish: a stream stops after `afterChunks` chunks and stays open; a plain call never answers. */
    stall: z.strictObject({ afterChunks: z.number().int().nonnegative().default(1) }).optional(),
    usage: z.strictObject({ input: z.number().int().nonnegative(), output: z.number().int().nonnegative() }).optional(),
    finishReason: z.string().optional(),
  })
  .superRefine((r, ctx) => {
    if (r.error && (r.text !== undefined || r.json !== undefined || r.toolCalls || r.malformed)) ctx.addIssue({ code: 'custom', path: ['error'], message: 'an error reply has no text, json, toolCalls or malformed' });
    if (r.text !== undefined && r.json !== undefined) ctx.addIssue({ code: 'custom', path: ['json'], message: 'give text or json, not both' });
    r.toolCalls?.forEach((t, i) => {
      if (t.arguments !== undefined && t.rawArguments !== undefined) ctx.addIssue({ code: 'custom', path: ['toolCalls', i, 'rawArguments'], message: 'give arguments or rawArguments, not both' });
    });
    if (r.match?.lastUser?.startsWith('/')) {
      try {
        lastUserRegex(r.match.lastUser);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['match', 'lastUser'], message: (err as Error).message });
      }
    }
  });

/** A whole script. */
export const scriptSchema = z.strictObject({
  /** Each distinct value of this request header walks the replies on its own, so concurrent sessions can be scripted. */
  sessionHeader: z.string().min(1).optional(),
  replies: z.array(replySchema).default([]),
  /** The answer when no reply applies (default: echo). */
  otherwise: replySchema.optional(),
});

/** A parsed reply. */
export type FakeReply = z.output<typeof replySchema>;
/** A parsed script. */
export type FakeScript = z.output<typeof scriptSchema>;

/** `/abc/i` as a RegExp. */
export function lastUserRegex(rule: string): RegExp {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(rule);
  if (!m) throw new Error(`'${rule}' starts with / but is not /pattern/flags`);
  return new RegExp(m[1]!, m[2]);
}

/** Parses script text (YAML or JSON); Invalid names each bad field. */
export function parseScript(text: string): FakeScript {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new Invalid(`script is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = scriptSchema.safeParse(raw);
  if (!parsed.success) throw new Invalid('invalid fake LLM script', zodIssues(parsed.error));
  return parsed.data;
}

/** Reads and parses a script file. */
export function loadScriptFile(path: string): FakeScript {
  return parseScript(readFileSync(path, 'utf8'));
}
