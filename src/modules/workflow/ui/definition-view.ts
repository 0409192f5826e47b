/** A saved definition as the console shows it: compiled once for both its drawing and its Mermaid source. */
import { compileDefinition, toMermaid, type WorkflowGraph } from '../definition/index.ts';
import type { StoredDefinition } from '../store/index.ts';

/** What a page needs of one definition; `error` instead of a graph when a saved spec no longer compiles. */
export interface DefinitionView {
  name: string;
  kind: string;
  version: number;
  updatedAt: Date;
  drawn: { graph: WorkflowGraph; mermaid: string } | { error: string };
}

/** Compiles a saved definition for drawing; a spec this server cannot compile is shown as an error, not a 500. */
export function viewOf(d: StoredDefinition): DefinitionView {
  let drawn: DefinitionView['drawn'];
  try {
    const graph = compileDefinition(d.spec).graph;
    drawn = { graph, mermaid: toMermaid(graph) };
  } catch (err) {
    drawn = { error: err instanceof Error ? err.message : String(err) };
  }
  return { name: d.name, kind: d.kind, version: d.version, updatedAt: d.updatedAt, drawn };
}
