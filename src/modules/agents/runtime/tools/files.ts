/** File tools: read_file, write_file, edit_file, list_files; every path resolved inside the worktree. */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import * as z from 'zod';
import { resolveInside } from '../paths.ts';
import type { Tool } from './context.ts';

const READ_CAP = 200_000;
const LIST_CAP = 2_000;

const readArgs = z.strictObject({ path: z.string().describe('path relative to the worktree'), offset: z.number().int().min(0).optional().describe('first line (0-based)'), limit: z.number().int().min(1).optional().describe('lines to read') });
const writeArgs = z.strictObject({ path: z.string(), content: z.string() });
const editArgs = z.strictObject({ path: z.string(), old_text: z.string().min(1).describe('exact text to replace'), new_text: z.string(), replace_all: z.boolean().optional() });
const listArgs = z.strictObject({ path: z.string().default('.'), recursive: z.boolean().default(false) });

/** read_file */
export const readFile: Tool = {
  name: 'read_file',
  description: 'Read a text file of the worktree (optionally a range of lines).',
  parameters: readArgs,
  async run(raw, ctx) {
    const a = readArgs.parse(raw);
    const text = readFileSync(resolveInside(ctx.root, a.path), 'utf8');
    const out = a.offset !== undefined || a.limit !== undefined ? text.split('\n').slice(a.offset ?? 0, (a.offset ?? 0) + (a.limit ?? Infinity)).join('\n') : text;
    return out.length > READ_CAP ? `${out.slice(0, READ_CAP)}\n[cut at ${READ_CAP} characters; read a range of lines]` : out;
  },
};

/** write_file */
export const writeFile: Tool = {
  name: 'write_file',
  description: 'Create or overwrite a file of the worktree (parent folders are made).',
  parameters: writeArgs,
  async run(raw, ctx) {
    const a = writeArgs.parse(raw);
    const path = resolveInside(ctx.root, a.path);
    mkdirSync(dirname(path), { recursive: true });
    // The parent may have been made just now: resolve again so a symlinked parent cannot slip through.
    writeFileSync(resolveInside(ctx.root, a.path), a.content);
    return `wrote ${Buffer.byteLength(a.content)} bytes to ${a.path}`;
  },
};

/** edit_file */
export const editFile: Tool = {
  name: 'edit_file',
  description: 'Replace exact text in a file: old_text must occur once (or set replace_all).',
  parameters: editArgs,
  async run(raw, ctx) {
    const a = editArgs.parse(raw);
    const path = resolveInside(ctx.root, a.path);
    const text = readFileSync(path, 'utf8');
    const count = text.split(a.old_text).length - 1;
    if (count === 0) throw new Error(`old_text does not occur in ${a.path}`);
    if (count > 1 && !a.replace_all) throw new Error(`old_text occurs ${count} times in ${a.path}; give more context or set replace_all`);
    writeFileSync(path, a.replace_all ? text.split(a.old_text).join(a.new_text) : text.replace(a.old_text, () => a.new_text));
    return `replaced ${a.replace_all ? count : 1} occurrence(s) in ${a.path}`;
  },
};

/** list_files */
export const listFiles: Tool = {
  name: 'list_files',
  description: 'List files and folders (folders end with /); .git is left out.',
  parameters: listArgs,
  async run(raw, ctx) {
    const a = listArgs.parse(raw);
    const start = resolveInside(ctx.root, a.path);
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
        if (out.length >= LIST_CAP) return;
        if (e.name === '.git') continue;
        const full = `${dir}/${e.name}`;
        const rel = relative(start, full);
        // Symlinked folders are listed, not followed: following one could leave the worktree.
        const isDir = e.isDirectory();
        out.push(isDir ? `${rel}/` : rel);
        if (isDir && a.recursive) walk(full);
      }
    };
    if (!statSync(start).isDirectory()) return a.path;
    walk(start);
    return out.length >= LIST_CAP ? `${out.join('\n')}\n[cut at ${LIST_CAP} entries]` : out.join('\n');
  },
};
