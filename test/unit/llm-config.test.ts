/** The `llm` config key: defaults, the default provider, fallbacks naming known providers, keys only from the environment. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/kernel/config/load.ts';
import { effectiveDefaultProvider } from '../../src/kernel/llm/config/schema.ts';
import { Secret } from '../../src/kernel/config/secret.ts';

function issues(flags: Record<string, unknown>, env: Record<string, string> = {}): { path: string; message: string }[] {
  try {
    loadConfig([], { env, flags });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const provider = { baseUrl: 'http://127.0.0.1:11434/v1' };

describe('llm config', () => {
  it('has no providers by default and fills every provider default', () => {
    expect(loadConfig([], { env: {} }).llm).toEqual({ providers: {}, fallbacks: {} });
    const cfg = loadConfig([], { env: {}, flags: { 'llm.providers': { ollama: provider } } }).llm;
    expect(cfg.providers.ollama).toMatchObject({ maxConcurrency: 32, timeoutMs: 120_000, idleTimeoutMs: 60_000, maxRetries: 3, prices: {}, circuit: { failureThreshold: 5, openMs: 30_000, halfOpenProbes: 1 } });
    expect(cfg.providers.ollama!.apiKey).toBeUndefined();
    // One provider is the default provider without saying so.
    expect(effectiveDefaultProvider(cfg)).toBe('ollama');
  });

  it('reads the key from the variable apiKeyEnv names, as a Secret', () => {
    const cfg = loadConfig([], { env: { OPENAI_API_KEY: ' sk-abc123456789 ' }, flags: { 'llm.providers': { openai: { baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY' } } } });
    const key = cfg.llm.providers.openai!.apiKey;
    expect(key).toBeInstanceOf(Secret);
    expect(key!.reveal()).toBe('sk-abc123456789');
  });

  it('names the field of each mistake', () => {
    expect(issues({ 'llm.providers': { a: provider, b: provider }, 'llm.defaultProvider': 'c' })).toEqual([{ path: 'llm.defaultProvider', message: 'names no provider under llm.providers (have: a, b)' }]);
    const fallbacks = issues({ 'llm.providers': { a: provider, b: provider }, 'llm.fallbacks': { 'a/m': ['b/n', 'zz-model'] } });
    expect(fallbacks.map((i) => i.path)).toEqual(['llm.fallbacks.a/m.1']);
    expect(fallbacks[0]!.message).toContain('defaultProvider is not set');
    expect(issues({ 'llm.providers': { 'open/ai': provider } }).map((i) => i.path)).toEqual(['llm.providers.open/ai']);
    expect(issues({ 'llm.providers': { a: { ...provider, maxConcurrency: 0, surprise: 1 } } }).map((i) => i.path).sort()).toEqual(['llm.providers.a.maxConcurrency', 'llm.providers.a.surprise']);
    expect(issues({ 'llm.providers': { a: { ...provider, headers: { 'X-Title': 'ok', 'X-Api-Key': 'sk-x' } } } }).map((i) => i.path)).toEqual(['llm.providers.a.headers.X-Api-Key']);
    expect(issues({ 'llm.providers': { a: { ...provider, apiKeyEnv: 'MISSING_KEY' } } })).toEqual([{ path: 'llm.providers.a.apiKeyEnv', message: 'environment variable MISSING_KEY is not set (or empty)' }]);
  });

  it('refuses a key set through a CAPSTAN_ variable, naming the variable, without echoing the key', () => {
    const found = issues({}, { CAPSTAN_LLM__PROVIDERS__A__BASE_URL: provider.baseUrl, CAPSTAN_LLM__PROVIDERS__A__API_KEY: 'sk-do-not-print-me' });
    expect(found).toHaveLength(1);
    expect(found[0]!.path).toBe('llm.providers.a.apiKey');
    expect(found[0]!.message).toContain('CAPSTAN_LLM__PROVIDERS__A__API_KEY');
    expect(JSON.stringify(found)).not.toContain('sk-do-not-print-me');
  });
});
