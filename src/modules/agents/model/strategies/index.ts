/** The strategies by name. */
import type { Strategy, SwarmSpec } from '../swarm.ts';
import { mapReduce } from './map-reduce.ts';
import { parallel } from './parallel.ts';
import { pipeline } from './pipeline.ts';
import { tree } from './tree.ts';

/** Strategy functions by their name in a definition. */
export const STRATEGY: Record<SwarmSpec['strategy'], Strategy> = { parallel, pipeline, 'map-reduce': mapReduce, tree };
