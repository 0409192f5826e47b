/** Prints configuration without secrets: URL passwords and token hashes are masked. */
import { redactUrl } from '../redact-url.ts';
import type { KernelConfig } from './schema.ts';

/** A copy of the config safe to print or log. */
export function redactConfig(cfg: KernelConfig): unknown {
  return {
    ...cfg,
    database: { url: cfg.database.url && redactUrl(cfg.database.url), readUrl: cfg.database.readUrl && redactUrl(cfg.database.readUrl) },
    redis: { url: cfg.redis.url && redactUrl(cfg.redis.url), ...(cfg.redis.sentinel ? { sentinel: { ...cfg.redis.sentinel, ...(cfg.redis.sentinel.password ? { password: '(redacted)' } : {}) } } : {}) },
    nats: { url: cfg.nats.url && cfg.nats.url.split(',').map((u) => redactUrl(u.trim())).join(',') },
    // Export headers usually carry a backend's API key.
    tracing: { ...cfg.tracing, endpoint: cfg.tracing.endpoint && redactUrl(cfg.tracing.endpoint), headers: Object.fromEntries(Object.keys(cfg.tracing.headers).map((k) => [k, '(redacted)'])) },
    auth: { ...cfg.auth, tokens: cfg.auth.tokens.map((t) => ({ ...t, sha256: `${t.sha256.slice(0, 6)}…(redacted)` })) },
  };
}
