/** The skill library: built-ins plus SKILL.md folders under the configured skill directories, read when asked. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from '../../../kernel/index.ts';
import { matchSkills, parseSkill, type Skill } from '../model/skill.ts';
import { BUILTIN_SKILLS } from '../skills/builtin.ts';

/** A skill file that could not be read, for GET /skills. */
export interface SkillProblem {
  source: string;
  error: string;
}

/** Finds skills; later directories override earlier ones and built-ins by name. */
export class SkillLibrary {
  constructor(
    private readonly dirs: string[],
    private readonly log: Logger,
  ) {}

  /** Every skill and every SKILL.md that is broken (reported, skipped). */
  load(): { skills: Skill[]; problems: SkillProblem[] } {
    const byName = new Map<string, Skill>();
    const problems: SkillProblem[] = [];
    for (const text of BUILTIN_SKILLS) {
      const s = parseSkill(text, 'builtin');
      if ('name' in s) byName.set(s.name, s);
    }
    for (const dir of this.dirs) {
      const root = resolve(dir.startsWith('~/') ? join(homedir(), dir.slice(2)) : dir);
      if (!existsSync(root)) continue;
      for (const entry of readdirSync(root)) {
        const file = join(root, entry, 'SKILL.md');
        try {
          if (!statSync(join(root, entry)).isDirectory() || !existsSync(file)) continue;
          const s = parseSkill(readFileSync(file, 'utf8'), file);
          if ('error' in s) problems.push({ source: file, error: s.error });
          else byName.set(s.name, s);
        } catch (err) {
          problems.push({ source: file, error: (err as Error).message });
        }
      }
    }
    for (const p of problems) this.log.warn({ source: p.source, error: p.error }, 'skill skipped');
    return { skills: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)), problems };
  }

  /** A skill by name. */
  get(name: string): Skill | undefined {
    return this.load().skills.find((s) => s.name === name);
  }

  /** The system-prompt lines for a task: the matching skills, by name and description ('' when none). */
  prompt(task: string, named: string[]): string {
    const found = matchSkills(this.load().skills, task, named);
    if (found.length === 0) return '';
    return ['Skills you can read with read_skill before you start, when they fit:', ...found.map((s) => `- ${s.name}: ${s.description}`)].join('\n');
  }
}
