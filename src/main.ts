#!/usr/bin/env bun
/** The composition root: the only file (besides tests) that imports modules. A module is added with one line below. */
import pkg from '../package.json' with { type: 'json' };
import { runCli } from './kernel/cli/run.ts';
import type { Module } from './kernel/index.ts';
import { createWorkflowModule } from './modules/workflow/index.ts';

/** Registered modules, in start order. */
export const MODULES: Module[] = [createWorkflowModule() as Module];

const code = await runCli(process.argv.slice(2), MODULES, pkg.version);
process.exit(code);
