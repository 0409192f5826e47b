/** LLM port contract, keys: sent to the provider, never printed: not in errors, logs, `config check` output or what the server records. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/kernel/config/load.ts';
import { createLlmClient, LlmProviderError, LlmUnavailable } from '../../src/kernel/index.ts';
import { freePort } from '../helpers/child-services.ts';
import { rejection } from '../helpers/async.ts';
import { runCapstan } from '../helpers/server-process.ts';
import { fakeLlmForFile } from './llm-fake.ts';

const RIGHT = 'sk-right-key-0123456789abcdef';
const WRONG = 'sk-wrong-key-9876543210fedcba';
// A key without the usual `sk-` shape: only the known-secret scrub can catch it.
const ODD = 'odd-token-ZX81-spectrum-48k';

const fake = fakeLlmForFile(['--api-key-env', 'FAKE_LLM_EXPECTED_KEY'], { FAKE_LLM_EXPECTED_KEY: RIGHT });
const dir = mkdtempSync(join(tmpdir(), 'capstan-llm-keys-'));
const file = join(dir, 'capstan.yaml');

beforeAll(() => {
  writeFileSync(file, `llm:\n  providers:\n    fake:\n      baseUrl: ${fake.baseUrl}\n      apiKeyEnv: FAKE_KEY\n      maxRetries: 1\n      retryBaseMs: 5\n`);
});

/** A client built the way `capstan serve` builds it: config file + environment through the loader. */
function clientWithKey(key: string, baseUrl?: string) {
  const cfg = loadConfig([], { file, env: { FAKE_KEY: key } });
  if (baseUrl) cfg.llm.providers.fake!.baseUrl = baseUrl;
  const logs: string[] = [];
  const log = pino({ level: 'trace' }, { write: (l: string) => void logs.push(l) });
  // Logging the whole configuration must not print the key either.
  log.info({ cfg }, 'config loaded');
  return { llm: createLlmClient({ config: cfg.llm, log }), logs };
}

function everythingPrinted(err: unknown, logs: string[]): string {
  const e = err as Error;
  return [e.message, String(e), e.stack ?? '', JSON.stringify(e), JSON.stringify((e as { details?: unknown }).details), ...logs].join('\n');
}

describe('LLM port: API keys are never printed', () => {
  it('sends the key from apiKeyEnv to the provider, which does not record it', async () => {
    const { llm, logs } = clientWithKey(RIGHT);
    expect((await llm.chat({ model: 'fake/m', messages: [{ role: 'user', content: 'with the right key' }] })).text).toBe('with the right key');
    const seen = (await fake.stats()).requests.at(-1)!;
    expect(Object.keys(seen.headers)).not.toContain('authorization');
    expect(logs.join('\n')).not.toContain(RIGHT);
  });

  it('sends the key in apiKeyHeader instead of Authorization when configured (Azure-style api-key)', async () => {
    const cfg = loadConfig([], { env: { FAKE_KEY: RIGHT }, flags: { 'llm.providers': { fake: { baseUrl: fake.baseUrl, apiKeyEnv: 'FAKE_KEY', apiKeyHeader: 'api-key' } } } });
    const llm = createLlmClient({ config: cfg.llm });
    expect((await llm.chat({ model: 'fake/m', messages: [{ role: 'user', content: 'by api-key' }] })).text).toBe('by api-key');
    const seen = (await fake.stats()).requests.at(-1)!;
    expect(Object.keys(seen.headers)).not.toContain('api-key');
  });

  it('scrubs a key the provider quotes back in a 401 from the error and the logs', async () => {
    for (const key of [WRONG, ODD]) {
      const { llm, logs } = clientWithKey(key);
      const err = await rejection(llm.chat({ model: 'fake/m', messages: [{ role: 'user', content: 'x' }] }));
      expect(err).toBeInstanceOf(LlmProviderError);
      expect((err as LlmProviderError).providerStatus).toBe(401);
      expect((err as Error).message).toMatch(/Incorrect API key provided: (sk-)?\*\*\*/);
      const printed = everythingPrinted(err, logs);
      expect(printed).not.toContain(key);
      expect(printed).not.toContain(key.slice(3, 20));
    }
  });

  it('keeps the key out of a connection error', async () => {
    const { llm, logs } = clientWithKey(WRONG, `http://127.0.0.1:${await freePort()}/v1`);
    const err = await rejection(llm.chat({ model: 'fake/m', messages: [{ role: 'user', content: 'x' }] }));
    expect(err).toBeInstanceOf(LlmUnavailable);
    expect(everythingPrinted(err, logs)).not.toContain(WRONG);
  });

  it('capstan config check prints (redacted) for the key, and names the field when the variable is missing', async () => {
    const ok = await runCapstan(['config', 'check', '--config', file], { env: { FAKE_KEY: RIGHT } });
    expect(ok.code).toBe(0);
    expect(ok.stdout + ok.stderr).not.toContain(RIGHT);
    const printed = JSON.parse(ok.stdout) as { llm: { providers: { fake: { apiKey: string; apiKeyEnv: string } } } };
    expect(printed.llm.providers.fake).toMatchObject({ apiKey: '(redacted)', apiKeyEnv: 'FAKE_KEY' });
    const missing = await runCapstan(['config', 'check', '--config', file], { env: {} });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('llm.providers.fake.apiKeyEnv: environment variable FAKE_KEY is not set');
  });

  it('refuses a key written into the config file, naming the field and not echoing the key', async () => {
    const bad = join(dir, 'inline-key.yaml');
    writeFileSync(bad, `llm:\n  providers:\n    fake:\n      baseUrl: ${fake.baseUrl}\n      apiKey: ${RIGHT}\n`);
    const r = await runCapstan(['config', 'check', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('llm.providers.fake.apiKey: do not write keys in config');
    expect(r.stdout + r.stderr).not.toContain(RIGHT);
  });
});
