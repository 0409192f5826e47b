/** Session records as the API shows them, and the state a worker resumes from. */
import type { ChatMessage } from '../../../kernel/index.ts';
import type { CascadeDefinition } from './definition.ts';

/** Where a session is. */
export const SESSION_STATUSES = ['starting', 'running', 'blocked', 'completed', 'error', 'cancelled', 'orphaned'] as const;
/** A session status. */
export type SessionStatus = (typeof SESSION_STATUSES)[number];
/** Statuses a session never leaves. */
export const TERMINAL: ReadonlySet<SessionStatus> = new Set(['completed', 'error', 'cancelled']);

/** A session row. */
export interface Session {
  id: string;
  cascadeId: string;
  spec: CascadeDefinition;
  status: SessionStatus;
  currentPhase: string | null;
  inputs: Record<string, unknown>;
  state: Record<string, unknown>;
  outputs: Record<string, unknown>;
  completed: string[];
  error: string | null;
  cost: number;
  tokensIn: number;
  tokensOut: number;
  owner: string | null;
  epoch: number;
  recoveries: number;
  heartbeatAt: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /** The session that started this one as a child, if any. */
  parentSessionId: string | null;
  /** A fire-and-forget child (async_cascades): its parent does not wait for it. */
  detached: boolean;
  /** 0 for a session a user started; a child is one deeper than its parent. */
  depth: number;
}

/** What a checkpoint holds: enough to resume the current phase at its next turn. */
export interface CheckpointData {
  /** The phase in progress (null when the session is done). */
  phase: string | null;
  /** Turns of `phase` done so far. */
  turn: number;
  /** The conversation of `phase` so far (empty at a phase boundary). */
  messages: ChatMessage[];
  /** `route_to` choice made in this phase, if any. */
  route?: string;
  /** Attempts of the phase's retry wards spent so far. */
  attempts?: number;
  /** The model asked a person (ask_human): the answer becomes the result of this tool call when the session resumes. */
  asking?: { toolCallId: string; checkpointId: string; question: string };
  /** run_cascade calls of the last turn whose child sessions the phase waits for. */
  awaiting?: { toolCallId: string; childId: string }[];
  /** An answer whose cascade validators (post wards) run as these child sessions. */
  validating?: { output: unknown; children: { ward: number; childId: string }[] };
  /** A soundings phase in progress: its attempts so far (runtime/soundings.ts). */
  soundings?: SoundingsProgress;
  /** The session's browser as of its last browser turn; a run on another worker reopens it from here. */
  browser?: BrowserSnapshot;
}

/**
 * What of a session's browser a checkpoint keeps (runtime/browser.ts bounds its size): cookies and localStorage as
 * playwright's `storageState()` gives them (null when they did not fit), and the URL of each open page, the current
 * one last. Nothing else of a page (form input, scroll, sessionStorage, JavaScript state) survives.
 */
export interface BrowserSnapshot {
  storage: { cookies: Record<string, unknown>[]; origins: Record<string, unknown>[] } | null;
  pages: string[];
  /** What was left out to stay within the size limit. */
  dropped?: ('localStorage' | 'cookies')[];
}

/** One sounding attempt: its own conversation, turns and set_state changes (the session's state only gets the winner's). */
export interface AttemptProgress {
  /** The attempt's index in its round. */
  i: number;
  model: string;
  mutation?: string;
  turn: number;
  messages: ChatMessage[];
  /** What its set_state calls set (applied to the session's state only if it wins and is accepted). */
  changes: Record<string, unknown>;
  /** Its route_to choice. */
  route?: string;
  /** run_cascade children of its last turn it waits for (in the worker: runtime/attempt-children.ts). */
  awaiting?: { toolCallId: string; childId: string }[];
  /** Its answer, once it gave one. */
  done?: { output: unknown; passes: boolean; model: string; tokensIn: number; tokensOut: number; cost: number | null; durationMs: number };
  /** Why it gave no answer (a provider error, its turns spent). */
  failed?: string;
}

/** A candidate an evaluator picked (or the standing winner of a reforge round, index -1). */
export interface SoundingCandidate {
  i: number;
  output: unknown;
  changes: Record<string, unknown>;
  route?: string;
}

/** Where a soundings phase is: pass (a ward or loop_until retry starts the next), round, attempts, winner. */
export interface SoundingsProgress {
  pass: number;
  /** The round, counted across passes (the log's turn is round + 1). */
  r: number;
  /** Reforge rounds done in this pass. */
  k: number;
  /** Why the last pass's winner was not accepted. */
  feedback?: string;
  /** Retry-ward attempts spent. */
  wardAttempts: number;
  /** The winner the current reforge round improves on. */
  standing?: SoundingCandidate;
  /** The current round's attempts. */
  attempts: AttemptProgress[];
  /** The round's winner once picked (being refined or judged). */
  winner?: SoundingCandidate;
  /** The winner's cascade validators, running as these children. */
  validating?: { ward: number; childId: string }[];
}

/** A log row to write. */
export interface LogEntry {
  phase: string | null;
  turn: number | null;
  kind: string;
  soundingIndex?: number;
  winner?: boolean;
  model?: string;
  tokensIn?: number;
  tokensOut?: number;
  cost?: number | null;
  durationMs?: number;
  content?: unknown;
}

/** A cost row to write (one per LLM call). */
export interface CostEntry {
  phase: string | null;
  model: string;
  tokensIn: number;
  tokensOut: number;
  cost: number | null;
}

/** A human checkpoint. */
export interface HumanCheckpoint {
  id: string;
  sessionId: string;
  phase: string;
  prompt: string;
  status: 'pending' | 'answered' | 'timed_out' | 'cancelled';
  response: unknown;
  /** `default` when the definition gives an answer to use (the definition holds the text). */
  onTimeout: 'continue' | 'fail' | 'default';
  expiresAt: string | null;
  createdAt: string;
  answeredAt: string | null;
}
