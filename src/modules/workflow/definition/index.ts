/** The workflow definition layer: pure parsing, validation and compilation of state machines and DAGs. */
export { parseDefinition, compileDefinition, MAX_DEFINITION_CHARS, type ParsedDefinition, type DefinitionKind } from './parse-definition.ts';
export { compileStateMachine } from './compile-state-machine.ts';
export { compileDag, stageStatus, DAG_COMPLETED, DAG_FAILED } from './compile-dag.ts';
export { StateMachineSpec, StateSpec, type StateMachineDefinition, type StateDefinition } from './state-machine-schema.ts';
export { DagSpec, DagStepSpec, type DagDefinition, type DagStepDefinition } from './dag-schema.ts';
export type { WorkflowGraph, GraphState, GraphEdge, EdgeKind, StateWork, HttpCall, ActionCall, OnComplete, DagPlan, DagStepPlan, JsonTemplate, GraphConnector, GraphSchedule } from './graph.ts';
export { ScheduleDefSpec, ConnectorDefSpec, type ScheduleDefinition, type ConnectorDefinition } from './triggers-schema.ts';
export { stateOf, isTerminal, allowedNext } from './graph-queries.ts';
export { parseDuration, formatDuration, MAX_DURATION_MS } from './duration.ts';
export { nextRetryDelayMs, DEFAULT_BACKOFF_MS, MAX_BACKOFF_MS, type RetryPolicy } from './retry-policy.ts';
export { interpolate, interpolateString, interpolateText, parseTemplateString, type TemplatePart } from './template.ts';
export { parseCondition, type Condition, type ConditionNode, type CompareOp } from './condition-parser.ts';
export { evaluateCondition, truthy, jsonEqual } from './condition-eval.ts';
export { ExpressionError } from './expression-error.ts';
export { parseRef, resolveRef, type PathRef, type RefScope, type RefRoot } from './path-ref.ts';
export { checkInput, type InputSchemaLite } from './input-schema.ts';
export { planDagStage, initialDagObject, dagScope, type DagRunObject, type DagStepRecord, type DagStagePlan, type RunInfo } from './dag-progress.ts';
export { toMermaid } from './mermaid.ts';
