/**
 * Every module's metrics workload, run in this order against one server before `promtool check metrics`. A new
 * module adds a file here doing its real work (see workload.ts) and one line below.
 */
import { agentsWorkload } from './agents.ts';
import { breederWorkload } from './breeder.ts';
import { cascadesWorkload } from './cascades.ts';
import { kernelWorkload } from './kernel.ts';
import type { Workload } from './workload.ts';
import { workflowWorkload } from './workflow.ts';

export type { Workload, WorkloadServer } from './workload.ts';

export const WORKLOADS: Workload[] = [kernelWorkload, workflowWorkload, breederWorkload, agentsWorkload, cascadesWorkload];
