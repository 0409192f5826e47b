/** GET /api/v1/agents/skills: the skills agents can use, and SKILL.md files that were skipped. */
import type { ApiRouter } from '../../../kernel/index.ts';
import type { SkillLibrary } from '../runtime/skills.ts';
import { ops } from './operations.ts';

/** Adds the skill routes to the module's router. */
export function skillRoutes(skills: SkillLibrary) {
  return (app: ApiRouter): void => {
    app.openapi(ops.listAgentSkills, async (c) => {
      const { skills: items, problems } = skills.load();
      return c.json({ items: items.map(({ body: _body, ...s }) => s), problems });
    });
  };
}
