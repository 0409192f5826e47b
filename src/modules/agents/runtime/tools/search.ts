/** search: text or regular-expression search over the worktree's files, done in-process (no grep, no shell). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import * as z from 'zod';
import { resolveInside } from '../paths.ts';
import type { Tool } from './context.ts';

const MAX_MATCHES = 200;
const MAX_FILE_BYTES = 1_000_000;
const args = z.strictObject({ pattern: z.string().min(1), path: z.string().default('.'), regex: z.boolean().default(false), ignore_case: z.boolean().default(false) });

/** search */
export const search: Tool = {
  name: 'search',
  description: 'Find lines matching a text (or a regular expression with regex: true) in the worktree; answers file:line: text.',
  parameters: args,
  async run(raw, ctx) {
    const a = args.parse(raw);
    const flags = a.ignore_case ? 'i' : '';
    const re = a.regex ? new RegExp(a.pattern, flags) : new RegExp(a.pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), flags);
    const start = resolveInside(ctx.root, a.path);
    const hits: string[] = [];
    const visit = (p: string) => {
      if (hits.length >= MAX_MATCHES) return;
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) return;
      if (st.isDirectory()) {
        for (const e of readdirSync(p, { withFileTypes: true })) if (e.name !== '.git' && !e.isSymbolicLink()) visit(`${p}/${e.name}`);
        return;
      }
      if (!st.isFile() || st.size > MAX_FILE_BYTES) return;
      const text = readFileSync(p, 'utf8');
      if (text.includes('\0')) return;
      const lines = text.split('\n');
      for (let i = 0; i < lines.length && hits.length < MAX_MATCHES; i++) if (re.test(lines[i]!)) hits.push(`${relative(ctx.root, p)}:${i + 1}: ${lines[i]!.slice(0, 300)}`);
    };
    visit(start);
    if (hits.length === 0) return 'no matches';
    return hits.length >= MAX_MATCHES ? `${hits.join('\n')}\n[first ${MAX_MATCHES} matches]` : hits.join('\n');
  },
};
