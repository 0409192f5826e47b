/**
 * `capstan agent-watchdog`: the replica watchdog process of `capstan agent` (runtime/watchdog/supervisor.ts), as a
 * command so that a compiled binary can start it; from a source checkout the agent runs its small entry file instead.
 * Not for people: it speaks JSON lines on stdin and stdout.
 */
import type { LocalCommand } from '../../../kernel/index.ts';
import type { MeshConfig } from '../config.ts';
import { watchdogMain } from '../runtime/watchdog/main.ts';

/** The command object registered by the module. */
export const agentWatchdogCommand: LocalCommand<MeshConfig> = {
  description: 'internal: the replica watchdog that `capstan agent` starts (stops replicas whose agent stopped renewing)',
  usage: 'agent-watchdog',
  run: () => watchdogMain(),
};
