import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, modeOf } from '../../src/kernel/config/load.ts';
import { redactConfig } from '../../src/kernel/config/redact.ts';
import { echoModule } from '../fixtures/echo-module.ts';

const dir = mkdtempSync(join(tmpdir(), 'capstan-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
const URLS = { DATABASE_URL: 'postgres://u:pw@127.0.0.1/db', REDIS_URL: 'redis://127.0.0.1:6379', NATS_URL: 'nats://127.0.0.1:4222' };
const TOKEN = { name: 't', sha256: 'a'.repeat(64), scopes: ['admin'] };

describe('config', () => {
  it('defaults to embedded mode on loopback with every registered module enabled', () => {
    const cfg = loadConfig([echoModule], { env: {} });
    expect(modeOf(cfg)).toBe('embedded');
    expect(cfg.server).toMatchObject({ host: '127.0.0.1', port: 7070, role: 'all' });
    expect(cfg.dataDir).toBe('./.capstan/data');
    expect(cfg.modules.echo).toEqual({ enabled: true, greeting: 'hello' });
  });

  it('layers defaults < file < environment < flags', () => {
    const f = file('layers.yaml', 'server:\n  port: 8001\n  host: 127.0.0.2\nlog:\n  level: debug\nmodules:\n  echo:\n    greeting: hi\n');
    const cfg = loadConfig([echoModule], { file: f, env: { CAPSTAN_SERVER__PORT: '8002', CAPSTAN_LOG_LEVEL: 'warn' }, flags: { 'server.port': 8003 } });
    expect(cfg.server.port).toBe(8003);
    expect(cfg.server.host).toBe('127.0.0.2');
    expect(cfg.log.level).toBe('warn');
    expect(cfg.modules.echo?.greeting).toBe('hi');
    expect(loadConfig([echoModule], { file: f, env: { CAPSTAN_SERVER__PORT: '8002' } }).server.port).toBe(8002);
  });

  it('reads the file named by CAPSTAN_CONFIG', () => {
    const f = file('env.yaml', 'server: { port: 9123 }\n');
    expect(loadConfig([], { env: { CAPSTAN_CONFIG: f } }).server.port).toBe(9123);
  });

  it('rejects unknown keys everywhere, naming each', () => {
    const f = file('typo.yaml', 'server:\n  prot: 1\nmodulez: {}\nmodules:\n  echo:\n    greetin: x\n');
    const paths = issuesOf(() => loadConfig([echoModule], { file: f, env: {} })).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['server.prot', 'modulez', 'modules.echo.greetin']));
  });

  it('names every field of the wrong type and why', () => {
    const f = file('types.yaml', 'server:\n  port: eighty\n  role: boss\nauth:\n  tokens: [{name: x, sha256: nothex, scopes: [root]}]\n');
    const issues = issuesOf(() => loadConfig([], { file: f, env: {} }));
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(Object.keys(byPath)).toEqual(expect.arrayContaining(['server.port', 'server.role', 'auth.tokens.0.sha256', 'auth.tokens.0.scopes.0']));
    expect(byPath['auth.tokens.0.sha256']).toMatch(/64/);
  });

  it('reports unreadable and malformed files', () => {
    expect(issuesOf(() => loadConfig([], { file: join(dir, 'missing.yaml'), env: {} }))[0]!.message).toMatch(/cannot read/);
    expect(issuesOf(() => loadConfig([], { file: file('bad.yaml', 'a: [1,\n'), env: {} }))[0]!.message).toMatch(/not valid YAML/);
    expect(issuesOf(() => loadConfig([], { file: file('list.yaml', '- 1\n'), env: {} }))[0]!.message).toMatch(/mapping/);
  });

  it('needs all three URLs for distributed mode and names the missing ones', () => {
    const issues = issuesOf(() => loadConfig([], { env: { DATABASE_URL: URLS.DATABASE_URL } }));
    expect(issues.map((i) => i.path).sort()).toEqual(['nats.url', 'redis.url']);
    expect(issues[0]!.message).toMatch(/missing/);
  });

  it('takes the servers of a NATS cluster as a comma-separated NATS_URL, each part checked and redacted', () => {
    const env = { ...URLS, NATS_URL: 'nats://u:pw@127.0.0.1:4222, nats://127.0.0.1:4223' };
    const cfg = loadConfig([], { env, flags: { 'auth.tokens': [TOKEN] } });
    expect(modeOf(cfg)).toBe('distributed');
    expect((redactConfig(cfg) as { nats: { url: string } }).nats.url).toBe('nats://u:***@127.0.0.1:4222,nats://127.0.0.1:4223');
    expect(issuesOf(() => loadConfig([], { env: { ...URLS, NATS_URL: 'nats://127.0.0.1:4222,http://x' }, flags: { 'auth.tokens': [TOKEN] } })).map((i) => i.path)).toEqual(['nats.url']);
  });

  it('turns auth on in distributed mode and then requires tokens', () => {
    expect(issuesOf(() => loadConfig([], { env: URLS })).map((i) => i.path)).toEqual(['auth.tokens']);
    const cfg = loadConfig([], { env: URLS, flags: { 'auth.tokens': [TOKEN] } });
    expect(modeOf(cfg)).toBe('distributed');
  });

  it('refuses an open server on a non-loopback address', () => {
    expect(issuesOf(() => loadConfig([], { env: { CAPSTAN_HOST: '0.0.0.0' } })).map((i) => i.path)).toEqual(['server.host']);
    expect(loadConfig([], { env: { CAPSTAN_HOST: '0.0.0.0' }, flags: { 'auth.tokens': [TOKEN] } }).server.host).toBe('0.0.0.0');
  });

  it('CAPSTAN_MODULES enables only the listed modules and rejects unknown names', () => {
    expect(loadConfig([echoModule], { env: { CAPSTAN_MODULES: '' } }).modules.echo?.enabled).toBe(false);
    expect(loadConfig([echoModule], { env: { CAPSTAN_MODULES: 'echo' } }).modules.echo?.enabled).toBe(true);
    expect(issuesOf(() => loadConfig([echoModule], { env: { CAPSTAN_MODULES: 'echo,wrokflow' } }))[0]!.message).toMatch(/unknown module 'wrokflow'/);
  });

  it('rejects unknown CAPSTAN_ variables and parses nested ones as YAML', () => {
    expect(issuesOf(() => loadConfig([], { env: { CAPSTAN_PROT: '1' } }))[0]).toEqual({ path: 'prot', message: 'unknown field (from CAPSTAN_PROT)' });
    expect(loadConfig([], { env: { CAPSTAN_STARTUP_TIMEOUT_MS: '1500' } }).startupTimeoutMs).toBe(1500);
    const cfg = loadConfig([], { env: { CAPSTAN_AUTH__TOKENS: `[{name: t, sha256: ${'b'.repeat(64)}, scopes: [admin]}]`, CAPSTAN_AUTH__RATE_LIMIT_PER_MINUTE: '5' } });
    expect(cfg.auth.tokens[0]!.name).toBe('t');
    expect(cfg.auth.rateLimitPerMinute).toBe(5);
  });

  it('redacts URL passwords and token hashes', () => {
    const cfg = loadConfig([], { env: URLS, flags: { 'auth.tokens': [TOKEN] } });
    const text = JSON.stringify(redactConfig(cfg));
    expect(text).not.toContain(':pw@');
    expect(text).not.toContain('a'.repeat(64));
    expect(text).toContain('127.0.0.1/db');
  });
});
