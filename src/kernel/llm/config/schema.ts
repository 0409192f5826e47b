/** The `llm` configuration key: providers (OpenAI-compatible endpoints), their limits and prices, and fallbacks. */
import * as z from 'zod';
import { Secret } from '../../config/secret.ts';
import { resolveModel } from '../model/model-ref.ts';

const price = z.strictObject({
  /** Per million input (prompt) tokens. */
  input: z.number().nonnegative(),
  /** Per million output (completion) tokens. */
  output: z.number().nonnegative(),
});

const httpUrl = z.string().refine((v) => {
  try {
    return ['http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}, 'must be an http or https URL, e.g. https://api.openai.com/v1');

/** Header names that carry credentials; they would be printed by `config check`, so they are refused in `headers`. */
const SECRET_HEADERS = /^(authorization|proxy-authorization|api-key|x-api-key|cookie)$/i;

const ms = (dflt: number) => z.number().int().positive().default(dflt);

/** One OpenAI-compatible endpoint. */
export const llmProviderSchema = z.strictObject({
  /** The API root that `/chat/completions` is appended to, e.g. https://api.openai.com/v1. */
  baseUrl: httpUrl,
  /** Name of the environment variable holding the API key; omit for local servers (Ollama, vLLM). */
  apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable, e.g. OPENAI_API_KEY').optional(),
  /** Filled from `apiKeyEnv` when config loads; a key written in the file is refused. */
  apiKey: z.custom<Secret>((v) => v instanceof Secret, 'do not write keys in config: name an environment variable in apiKeyEnv').optional(),
  /** Send the key in this header as is (Azure's `api-key`, `x-api-key`) instead of `Authorization: Bearer <key>`. */
  apiKeyHeader: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name').optional(),
  /** Extra headers on every request (e.g. OpenRouter's HTTP-Referer, X-Title); a key-carrying header is refused. */
  headers: z
    .record(z.string(), z.string())
    .default({})
    .superRefine((h, ctx) => {
      for (const name of Object.keys(h)) {
        if (SECRET_HEADERS.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'keys do not go in headers: set apiKeyEnv (and apiKeyHeader for a header other than Authorization)' });
      }
    }),
  /** Price per million tokens by model name (without the provider); `*` prices every other model. */
  prices: z.record(z.string().min(1), price).default({}),
  /** Calls in flight to this provider at once; further callers wait in line (llm_waiting_callers). */
  maxConcurrency: z.number().int().positive().default(32),
  /** Longest one attempt may take, stream included. */
  timeoutMs: ms(120_000),
  /** Longest silence allowed before the first byte and between stream chunks, so a stalled stream fails. */
  idleTimeoutMs: ms(60_000),
  /** Retries after the first attempt on 429, 5xx, timeouts and connection errors. */
  maxRetries: z.number().int().min(0).max(20).default(3),
  /** Backoff: full jitter over min(retryMaxMs, retryBaseMs * 2^attempt). */
  retryBaseMs: ms(500),
  retryMaxMs: ms(20_000),
  /** A Retry-After longer than this is not waited for: the call fails over to the next model (or fails) at once. */
  maxRetryAfterMs: ms(60_000),
  /**
   * Per provider+model breaker: opens after `failureThreshold` failed attempts in a row (5xx, timeout, unreachable; a 429
   * counts once its retries are spent), lets `halfOpenProbes` calls probe again after `openMs`.
   */
  circuit: z
    .strictObject({
      failureThreshold: z.number().int().positive().default(5),
      openMs: ms(30_000),
      halfOpenProbes: z.number().int().positive().default(1),
    })
    .prefault({}),
});

/** The whole `llm` key. */
export const llmConfigSchema = z
  .strictObject({
    /** The provider of bare model names; defaults to the only provider when there is one. */
    defaultProvider: z.string().optional(),
    providers: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'provider names are lower-case letters, digits, _ and - (no /)'), llmProviderSchema).default({}),
    /** `<provider>/<model>` -> models to try in order when it fails or its circuit is open (LiteLLM's `fallbacks`). */
    fallbacks: z.record(z.string(), z.array(z.string().min(1)).min(1)).default({}),
  })
  .superRefine((cfg, ctx) => {
    const names = new Set(Object.keys(cfg.providers));
    const dflt = effectiveDefaultProvider(cfg);
    if (cfg.defaultProvider !== undefined && !names.has(cfg.defaultProvider)) {
      ctx.addIssue({ code: 'custom', path: ['defaultProvider'], message: `names no provider under llm.providers (have: ${[...names].join(', ') || 'none'})` });
    }
    const check = (name: string, path: (string | number)[]) => {
      try {
        resolveModel(name, names, dflt);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path, message: (err as Error).message });
      }
    };
    for (const [from, to] of Object.entries(cfg.fallbacks)) {
      check(from, ['fallbacks', from]);
      to.forEach((m, i) => check(m, ['fallbacks', from, i]));
    }
  })
  .prefault({});

/** The parsed `llm` configuration. */
export type LlmConfig = z.output<typeof llmConfigSchema>;
/** One parsed provider. */
export type LlmProviderConfig = z.output<typeof llmProviderSchema>;

/** `defaultProvider`, or the only provider when exactly one is configured. */
export function effectiveDefaultProvider(cfg: Pick<LlmConfig, 'defaultProvider' | 'providers'>): string | undefined {
  if (cfg.defaultProvider) return cfg.defaultProvider;
  const names = Object.keys(cfg.providers);
  return names.length === 1 ? names[0] : undefined;
}
