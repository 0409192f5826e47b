/** What a module's metrics workload gets and gives: real work through a running server's HTTP API. */
import type { FakeLlmServer } from '../../../src/kernel/llm/fake/fake-server.ts';
import type { JsonApi } from '../json-api.ts';

/** A server started for the metrics check, with a small JSON client. */
export interface WorkloadServer {
  url: string;
  /** Sends `body` (a string as is, else JSON) to `/api/v1<path>`; the answer's status and parsed body. */
  api: JsonApi;
  /** Polls `check` every 50 ms until it returns a value; fails naming `what` after `timeoutMs` (default 20 s). */
  eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  /** The fake OpenAI-compatible server the server's LLM provider `fake` points at (models `fake/<anything>`). */
  llm: FakeLlmServer;
  /** A temp folder the workload may write into (repositories, files). */
  dir: string;
}

/**
 * One module's real work: it drives every kind of work the module does, waits until it is done, and returns the
 * metric names that must now have samples in /metrics (so the format check provably ran over them). Clean up
 * anything left running (listeners, test servers) before returning.
 */
export interface Workload {
  module: string;
  run(server: WorkloadServer): Promise<string[]>;
}
