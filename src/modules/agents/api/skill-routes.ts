/** GET /api/v1/agents/skills: the skills agents can use, and SKILL.md files that were skipped. */
import { z } from '@hono/zod-openapi';
import { defineRoute, type ApiRouter } from '../../../kernel/index.ts';
import type { SkillLibrary } from '../runtime/skills.ts';

/** Adds the skill routes to the module's router. */
export function skillRoutes(skills: SkillLibrary) {
  return (app: ApiRouter): void => {
    app.openapi(defineRoute({ method: 'get', path: '/skills', operationId: 'listAgentSkills', summary: 'Skills agents can use (built-in and from the skill folders)', responses: { 200: { description: 'the skills and the broken SKILL.md files', content: { 'application/json': { schema: z.any() } } } } }), async (c) => {
      const { skills: items, problems } = skills.load();
      return c.json({ items: items.map(({ body: _body, ...s }) => s), problems });
    });
  };
}
