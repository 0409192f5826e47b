/** The workflow definition layer: pure parsing, validation and compilation of state machines and DAGs. */
export { parseDefinition, compileDefinition, MAX_DEFINITION_CHARS, type ParsedDefinition, type DefinitionKind } from './parse-definition.ts';
export { compileStateMachine } from './compile/state-machine.ts';
export { compileDag, stageStatus, DAG_COMPLETED, DAG_FAILED } from './compile/dag.ts';
export { StateMachineSpec, StateSpec, type StateMachineDefinition, type StateDefinition } from './state-machine-schema.ts';
export { DagSpec, DagStepSpec, type DagDefinition, type DagStepDefinition } from './dag-schema.ts';
export type { WorkflowGraph, GraphState, GraphEdge, EdgeKind, StateWork, HttpCall, ActionCall, OnComplete, DagPlan, DagStepPlan, JsonTemplate, GraphConnector, GraphSchedule } from './graph.ts';
export { ScheduleDefSpec, ConnectorDefSpec, type ScheduleDefinition, type ConnectorDefinition } from './triggers-schema.ts';
export { stateOf, isTerminal, allowedNext } from './graph-queries.ts';
export { expressions, REF_ROOTS, type RefRoot } from './expressions.ts';
export { checkInput, type InputSchemaLite } from './input-schema.ts';
export { planDagStage, initialDagObject, dagScope, type DagRunObject, type DagStepRecord, type DagStagePlan, type RunInfo } from './dag-progress.ts';
export { toMermaid } from './mermaid.ts';
