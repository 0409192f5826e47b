/** The cascades store: the only store file the rest of the module imports. */
export { CascadeStore, type LogRow, type ParkedQuestion, type SessionQuery, type StoredDefinition } from './cascade-store.ts';
export { prepareTurn, type PreparedTurn, type TurnWrite } from './turn-write.ts';
export { ChildSessionStore, resultOf, type NewChild, type WaitOutcome } from './child-sessions.ts';
export { SessionDataStore, rowsOf, type TableRows } from './session-data.ts';
export { ArtifactStore, MAX_ARTIFACT_BYTES, MAX_ARTIFACTS_PER_SESSION, type ArtifactInfo } from './artifacts.ts';
