/** The chat messages a caller sends and the assistant message a provider answers, in Capstan's camelCase shape. */

/** A piece of a user message: text, or an image by URL (data: URLs work where the provider supports them). */
export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; imageUrl: string };

/** A tool call the model asked for; `arguments` is the parsed JSON the model produced. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: unknown;
}

/** Instructions for the model. */
export interface SystemMessage {
  role: 'system';
  content: string;
}

/** What the user said. */
export interface UserMessage {
  role: 'user';
  content: string | ContentPart[];
}

/** What the model answered: text, tool calls, or both. Push it back into `messages` to continue a tool loop. */
export interface AssistantMessage {
  role: 'assistant';
  content: string | null;
  toolCalls?: ToolCall[];
}

/** The result of running one tool call, sent back to the model. */
export interface ToolMessage {
  role: 'tool';
  toolCallId: string;
  content: string;
}

/** One message of a conversation. */
export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

/** A JSON Schema document (an object); written by hand or produced from zod with `z.toJSONSchema`. */
export type JsonSchema = Record<string, unknown>;

/** A tool the model may call; `parameters` is the JSON Schema of its arguments (or a zod schema, converted for you). */
export interface ToolDefinition {
  name: string;
  description?: string;
  parameters: JsonSchema | import('zod').ZodType;
  /** Ask the provider to follow the schema exactly (OpenAI `strict`); default off, as not every server knows it. */
  strict?: boolean;
}

/** Which tool the model must use: any (`auto`), none, at least one (`required`), or the named one. */
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };
