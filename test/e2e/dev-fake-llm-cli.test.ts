/** `capstan dev`: listing, unknown commands and bad fake-llm flags exit 2 with a clear message. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCapstan } from '../helpers/server-process.ts';

describe('capstan dev', () => {
  it('lists the dev commands and exits 2 without one; refuses unknown commands and bad flags', async () => {
    const list = await runCapstan(['dev']);
    expect(list.code).toBe(2);
    expect(list.stdout).toContain('fake-llm');
    const unknown = await runCapstan(['dev', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown dev command 'nope' \(have: [^)]*\bfake-llm\b[^)]*\)/);
    const latency = await runCapstan(['dev', 'fake-llm', '--latency-ms', 'slow']);
    expect(latency.code).toBe(2);
    expect(latency.stderr).toContain("--latency-ms must be a non-negative integer, got 'slow'");
    const script = join(mkdtempSync(join(tmpdir(), 'capstan-fake-')), 'bad.yaml');
    writeFileSync(script, 'replies:\n  - error: { status: 99 }\n');
    const bad = await runCapstan(['dev', 'fake-llm', '--script', script]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('replies.0.error.status');
  });
});
