/** read_skill: the instructions of a skill listed in the prompt. */
import * as z from 'zod';
import type { Tool } from './context.ts';

const args = z.strictObject({ name: z.string().min(1) });

/** read_skill */
export const readSkill: Tool = {
  name: 'read_skill',
  description: 'Read the instructions of a skill listed in your instructions.',
  parameters: args,
  async run(raw, ctx) {
    const name = args.parse(raw).name;
    const skill = ctx.skill?.(name);
    if (!skill) throw new Error(`no skill '${name}'`);
    return skill;
  },
};
