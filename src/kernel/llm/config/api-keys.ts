/** Reads each provider's key from the environment variable its `apiKeyEnv` names, once, when config loads. */
import type { FieldIssue } from '../../errors.ts';
import { Secret } from '../../config/secret.ts';

/**
 * Sets `llm.providers.<name>.apiKey` in the raw config tree from `env[apiKeyEnv]`, before the schema runs, so that
 * modules never read process.env; a missing variable is an issue naming the field.
 */
export function resolveApiKeys(tree: Record<string, unknown>, env: Record<string, string | undefined>, issues: FieldIssue[]): void {
  const llm = tree.llm as { providers?: unknown } | undefined;
  if (!llm || typeof llm.providers !== 'object' || llm.providers === null) return;
  for (const [name, p] of Object.entries(llm.providers as Record<string, unknown>)) {
    if (typeof p !== 'object' || p === null) continue;
    const provider = p as Record<string, unknown>;
    const varName = provider.apiKeyEnv;
    // A key written in the file stays as is, so that the schema refuses it with a message naming the field.
    if (typeof varName !== 'string' || 'apiKey' in provider) continue;
    const value = env[varName];
    if (value === undefined || value.trim() === '') {
      issues.push({ path: `llm.providers.${name}.apiKeyEnv`, message: `environment variable ${varName} is not set (or empty)` });
      continue;
    }
    provider.apiKey = new Secret(value.trim());
  }
}
