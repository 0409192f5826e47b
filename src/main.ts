#!/usr/bin/env bun
/** The composition root: the only file (besides tests) that imports modules. A module is added with one line below. */
import pkg from '../package.json' with { type: 'json' };
import { runCli } from './kernel/cli/run.ts';
import type { Module } from './kernel/index.ts';
import { createCascadesModule } from './modules/cascades/index.ts';
import { createMeshModule } from './modules/mesh/index.ts';
import { createWorkflowModule } from './modules/workflow/index.ts';
import { createBreederModule } from './modules/breeder/index.ts';
import { createAgentsModule } from './modules/agents/index.ts';

/** Registered modules, in start order. */
export const MODULES: Module[] = [createWorkflowModule(), createCascadesModule(), createBreederModule(), createAgentsModule(), createMeshModule()];

// Run only as the program (also inside the compiled binary); scripts import MODULES (e.g. to render the API document).
if (import.meta.main) {
  const code = await runCli(process.argv.slice(2), MODULES, pkg.version);
  process.exit(code);
}
