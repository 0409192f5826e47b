/** A skill in the Agent Skills format: a folder with SKILL.md whose YAML front matter names it and says what it is for. */
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';

/** One skill. */
export interface Skill {
  name: string;
  description: string;
  /** The instructions after the front matter (what read_skill answers). */
  body: string;
  /** Where it came from: `builtin`, or the SKILL.md path. */
  source: string;
}

const front = z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and -'), description: z.string().min(1).max(1_024) });

/** Parses SKILL.md text; answers the skill, or why it is not one. */
export function parseSkill(text: string, source: string): Skill | { error: string } {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(text);
  if (!m) return { error: 'no front matter (--- name/description ---) at the top' };
  let meta: unknown;
  try {
    meta = parseYaml(m[1]!);
  } catch (err) {
    return { error: `front matter is not YAML: ${(err as Error).message.split('\n')[0]}` };
  }
  const r = front.safeParse(meta);
  if (!r.success) return { error: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  return { name: r.data.name, description: r.data.description, body: m[2]!.trim(), source };
}

const STOP = new Set(['the', 'and', 'for', 'with', 'that', 'this', 'from', 'into', 'when', 'your', 'you', 'are', 'use', 'all', 'any', 'how', 'what', 'not']);
const words = (text: string): Set<string> => new Set((text.toLowerCase().match(/[a-z0-9]{3,}/g) ?? []).filter((w) => !STOP.has(w)));

/** Skills that fit a task: named ones always, others when their name occurs in the task or two words of their description do. */
export function matchSkills(all: Skill[], task: string, named: string[]): Skill[] {
  const taskWords = words(task);
  const lower = task.toLowerCase();
  return all.filter((s) => {
    if (named.includes(s.name)) return true;
    if (lower.includes(s.name.replace(/-/g, ' ')) || lower.includes(s.name)) return true;
    let shared = 0;
    for (const w of words(s.description)) if (taskWords.has(w)) shared += 1;
    return shared >= 2;
  });
}
