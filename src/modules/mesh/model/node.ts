/** Nodes as the mesh sees them. */

/** What an agent writes into `mesh_nodes` with every heartbeat. */
export interface NodeBeat {
  id: string;
  site: string;
  labels: Record<string, string>;
  capacity: number;
  /** The agent process's session (a restarted agent with the same id is another session). */
  session: string;
  startedAt: string;
  /** Wall clock of the beat, only to age entries read on first sight. */
  at: number;
  heartbeatMs: number;
  /** Local endpoint that returns current fencing tokens. */
  tokenUrl?: string;
}

/** alive: beating; suspect: missed beats; dead: silent for a lease; left: deleted its key on a graceful stop. */
export type NodeState = 'alive' | 'suspect' | 'dead' | 'left';

/** Operator intent for a node (`mesh_control`): cordoned takes no new work, draining also gives its work away. */
export interface NodeControl {
  cordoned: boolean;
  draining: boolean;
}

/** A node in the shared view. */
export interface NodeView extends NodeBeat {
  state: NodeState;
  lastSeenMsAgo: number;
  cordoned: boolean;
  draining: boolean;
}
