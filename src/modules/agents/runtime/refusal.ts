/** A tool call refused by a safety rule: the model is told why, the audit table and `agents.safety.blocked` record it. */

/** Which rule refused: stable names for the audit table and metrics. */
export type SafetyRule = 'absolute_path' | 'path_escape' | 'git_dir' | 'command_denied' | 'tool_denied' | 'host_denied' | 'swarm_only';

/** Thrown by a tool when a safety rule refuses the call. */
export class Refusal extends Error {
  constructor(
    readonly rule: SafetyRule,
    message: string,
  ) {
    super(message);
    this.name = 'Refusal';
  }
}
