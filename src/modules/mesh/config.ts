/** The mesh module's configuration slice (`modules.mesh`). */
import * as z from 'zod';
import { timingSchema } from './model/timing.ts';

/** Schema of `modules.mesh`. */
export const meshConfigSchema = z.strictObject({ enabled: z.boolean().default(true), timing: timingSchema.prefault({}) }).prefault({});

/** Checked mesh configuration. */
export type MeshConfig = z.output<typeof meshConfigSchema>;
