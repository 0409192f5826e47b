/** Entry point: YAML or JSON text -> checked definition and compiled graph, or one Invalid naming every problem. */
import { duplicateJsonKeys, Invalid, unsafeKeyIssues, WHOLE_VALUE, zodIssues, type FieldIssue } from '../../../kernel/index.ts';
import { parseDocument } from 'yaml';
import { compileDag } from './compile/dag.ts';
import { compileStateMachine } from './compile/state-machine.ts';
import { DagSpec, type DagDefinition } from './dag-schema.ts';
import type { WorkflowGraph } from './graph.ts';
import { StateMachineSpec, type StateMachineDefinition } from './state-machine-schema.ts';

/** The two definition forms. */
export type DefinitionKind = 'state-machine' | 'dag';

/** A checked definition with its compiled graph. */
export type ParsedDefinition =
  | { kind: 'state-machine'; definition: StateMachineDefinition; graph: WorkflowGraph }
  | { kind: 'dag'; definition: DagDefinition; graph: WorkflowGraph };

/** Largest definition text accepted (characters). */
export const MAX_DEFINITION_CHARS = 256 * 1024;

/** Throws Invalid for one problem of the whole document. */
function invalid(message: string, path: string = WHOLE_VALUE): never {
  throw new Invalid(`invalid workflow definition: ${message}`, [{ path, message }]);
}

/** Parses YAML with line and column in every syntax error; duplicate keys are errors. */
function parseYaml(text: string): unknown {
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    // A pathologically nested document can exhaust the parser's stack; that is the user's input, not our bug.
    if (err instanceof RangeError) invalid('the document is nested too deeply');
    throw err;
  }
  // The parser also catches its own stack overflow and reports it as a syntax error at some column.
  if (doc.errors.some((e) => e.message.includes('Maximum call stack size exceeded'))) invalid('the document is nested too deeply');
  if (doc.errors.length > 0) {
    const issues: FieldIssue[] = doc.errors.map((e) => {
      const first = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
      const pos = e.linePos?.[0];
      return { path: WHOLE_VALUE, message: pos ? `line ${pos.line}, column ${pos.col}: ${first}` : first };
    });
    throw new Invalid(`invalid YAML: ${issues[0]!.message}`, issues);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // toJS refuses alias bombs ("billion laughs") and excessive nesting.
    invalid(err instanceof Error ? err.message : String(err));
  }
}

/** Parses JSON; on a syntax error, asks the YAML parser (a JSON superset) where the error is. */
function parseJson(text: string): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const pos = parseDocument(text, { prettyErrors: true }).errors[0]?.linePos?.[0];
    return invalid(pos ? `invalid JSON at line ${pos.line}, column ${pos.col}: ${reason}` : `invalid JSON: ${reason}`);
  }
  // YAML refuses a repeated key (uniqueKeys); JSON.parse would keep the last one without a word.
  const repeated = duplicateJsonKeys(text);
  if (repeated.length > 0) throw new Invalid('invalid workflow definition: a key is repeated', repeated.map((path) => ({ path: path || WHOLE_VALUE, message: 'this key appears more than once in its object' })));
  return doc;
}

/** Checks and compiles an already-parsed document (e.g. a JSON request body). */
export function compileDefinition(doc: unknown): ParsedDefinition {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    invalid('a definition is a mapping with name and either states (state machine) or steps (DAG)');
  }
  const hasStates = Object.hasOwn(doc, 'states');
  const hasSteps = Object.hasOwn(doc, 'steps');
  if (hasStates && hasSteps) invalid('a definition has either states (state machine) or steps (DAG), not both');
  if (!hasStates && !hasSteps) invalid('a definition needs states (state machine) or steps (DAG)');
  const unsafe = unsafeKeyIssues(doc);
  if (hasStates) {
    const parsed = StateMachineSpec.safeParse(doc);
    if (!parsed.success || unsafe.length > 0) throw new Invalid('invalid workflow definition', [...unsafe, ...(parsed.error ? zodIssues(parsed.error) : [])]);
    return { kind: 'state-machine', definition: parsed.data, graph: compileStateMachine(parsed.data) };
  }
  const parsed = DagSpec.safeParse(doc);
  if (!parsed.success || unsafe.length > 0) throw new Invalid('invalid workflow definition', [...unsafe, ...(parsed.error ? zodIssues(parsed.error) : [])]);
  return { kind: 'dag', definition: parsed.data, graph: compileDag(parsed.data) };
}

/** Parses YAML (default; JSON is valid YAML too) or strict JSON text, checks it and compiles it. */
export function parseDefinition(text: string, contentType?: 'yaml' | 'json'): ParsedDefinition {
  if (text.length > MAX_DEFINITION_CHARS) invalid(`the definition is longer than ${MAX_DEFINITION_CHARS} characters`);
  if (text.trim() === '') invalid('the definition is empty');
  return compileDefinition(contentType === 'json' ? parseJson(text) : parseYaml(text));
}
