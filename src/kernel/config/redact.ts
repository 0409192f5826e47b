/** Prints configuration without secrets: URL passwords and token hashes are masked. */
import { redactUrl } from '../redact-url.ts';
import type { KernelConfig } from './schema.ts';

/** A copy of the config safe to print or log. */
export function redactConfig(cfg: KernelConfig): unknown {
  return {
    ...cfg,
    database: { url: cfg.database.url && redactUrl(cfg.database.url) },
    redis: { url: cfg.redis.url && redactUrl(cfg.redis.url) },
    nats: { url: cfg.nats.url && redactUrl(cfg.nats.url) },
    auth: { ...cfg.auth, tokens: cfg.auth.tokens.map((t) => ({ ...t, sha256: `${t.sha256.slice(0, 6)}…(redacted)` })) },
  };
}
