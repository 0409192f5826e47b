/** Tool-call arguments arrive as JSON text written by the model; parse them, or say exactly why they are not JSON. */

/** `[undefined, value]` when `raw` is JSON (an empty string counts as `{}`), `[reason]` when it is not. */
export function parseToolArguments(raw: string): [string] | [undefined, unknown] {
  if (raw.trim() === '') return [undefined, {}];
  try {
    return [undefined, JSON.parse(raw) as unknown];
  } catch (err) {
    return [(err as Error).message];
  }
}
