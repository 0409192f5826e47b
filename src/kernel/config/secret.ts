/** Secrets (API keys) in memory: a wrapper that prints as `(redacted)` everywhere, and a scrubber for text that may quote one. */

const REDACTED = '(redacted)';

/** Holds a secret; JSON, string conversion, console.log and pino all see `(redacted)`. Call `reveal()` only to send it. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The secret itself, for the one place that sends it (an Authorization header). */
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return REDACTED;
  }
  toString(): string {
    return REDACTED;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}

// Key shapes providers use (OpenAI/OpenRouter `sk-...`, Anthropic `sk-ant-...`), and bearer headers quoted back in errors.
const KEY_PATTERNS: [RegExp, string][] = [
  [/\bsk-[A-Za-z0-9_*.-]{6,}/g, 'sk-***'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer ***'],
];

/** Removes every known secret and anything shaped like an API key from `text` (provider error messages quote keys). */
export function redactSecrets(text: string, secrets: readonly (Secret | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) {
    const v = s?.reveal();
    if (v && v.length >= 4) out = out.split(v).join('***');
  }
  for (const [re, by] of KEY_PATTERNS) out = out.replace(re, by);
  return out;
}
