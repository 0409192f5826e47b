/** Lints the API document as client generators see it: rendered in-process from every module, then `redocly lint` (recommended rules). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pkg from '../package.json' with { type: 'json' };
import { apiDocument } from '../src/kernel/http/api-document.ts';
import { MODULES } from '../src/main.ts';

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'capstan-openapi-'));
try {
  const file = join(dir, 'openapi.json');
  writeFileSync(file, JSON.stringify(await apiDocument(MODULES, pkg.version), null, 2));
  // Telemetry and update checks off: the linter must not reach beyond this machine.
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
  const bin = join(root, 'node_modules/@redocly/cli/bin/cli.js');
  const r = spawnSync(process.execPath, [bin, 'lint', file, '--config', join(root, 'redocly.yaml'), '--format', 'stylish'], { cwd: root, stdio: 'inherit', env });
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
