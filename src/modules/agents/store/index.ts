/** The agents store: the only store file the rest of the module imports. */
export { AgentStore, type AgentQuery, type AuditRow, type LogRow, type NewAgent, type TurnWrite } from './agent-store.ts';
export { SwarmStore, type ChannelMessage } from './swarm-store.ts';
