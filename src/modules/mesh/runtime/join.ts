/**
 * Joining the mesh at agent start, retried. Right after a NATS server was killed the cluster may still be electing
 * stream leaders, and the first JetStream calls (bucket lookups, the event stream) time out; an agent that exited then
 * left its node without replicas until someone restarted it. So the whole join (connection, buckets, first beat) is
 * tried again with a bounded exponential backoff, every attempt logged, until `giveUpMs` have passed.
 */
import { openCoordination, sleepUnlessAborted, type Logger } from '../../../kernel/index.ts';
import { Agent, type AgentOptions } from './agent.ts';

/** How the join is retried. */
export interface JoinRetry {
  /** Stop trying (and fail) once this long has passed since the first attempt. */
  giveUpMs: number;
  /** First pause between attempts; doubled after each failure up to `maxBackoffMs`. */
  firstBackoffMs?: number;
  maxBackoffMs?: number;
  /** An attempt that has not joined by then is abandoned (its connection closed) and tried again. */
  attemptTimeoutMs?: number;
  /** Aborts the retries (SIGTERM while still joining). */
  signal: AbortSignal;
}

/** Default bound of one join attempt. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 30_000;

/** The pause before attempt `n + 1` (n ≥ 1): 250 ms, 500 ms, 1 s, ... capped. */
export function joinBackoffMs(n: number, first = 250, max = 5_000): number {
  return Math.min(max, first * 2 ** Math.min(n - 1, 20));
}

/** A joined agent with the connection it runs on. */
export interface Joined {
  agent: Agent;
  mode: 'embedded' | 'distributed';
  close(): Promise<void>;
}

/** Connects and starts the agent, retrying failed attempts; throws the last error after the give-up (or on abort). */
export async function joinMesh(o: { natsUrl?: string; prefix: string; agent: Omit<AgentOptions, 'kv' | 'bus'>; log: Logger; retry: JoinRetry }): Promise<Joined> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    let close: (() => Promise<void>) | undefined;
    let where = 'connecting';
    let abandoned = false;
    try {
      const once = async (): Promise<Joined> => {
        const coord = await openCoordination({ natsUrl: o.natsUrl, prefix: o.prefix, source: `agent-${o.agent.node}` });
        // Connected only after the attempt timed out: nobody else will close this connection.
        if (abandoned) {
          await coord.close().catch(() => {});
          throw new Error('join attempt abandoned');
        }
        close = coord.close;
        const agent = new Agent({ ...o.agent, kv: coord.kv, bus: coord.bus });
        close = async () => {
          await agent.stop().catch(() => {});
          await coord.close().catch(() => {});
        };
        const step = setInterval(() => (where = agent.joinStep), 50);
        try {
          await agent.start();
        } finally {
          clearInterval(step);
        }
        return { agent, mode: coord.mode, close: async () => { await agent.stop(); await coord.close(); } };
      };
      // A JetStream call can hang through a cluster's leader change (one attempt once waited 240 s without an
      // answer): each attempt is bounded, and closing it (below) makes what still waits fail.
      const limit = o.retry.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
      const attempting = once();
      attempting.catch(() => {});
      let timer: ReturnType<typeof setTimeout> | undefined;
      const joined = await Promise.race([
        attempting,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`join attempt timed out after ${limit} ms (at: ${where})`)), limit);
        }),
      ]).finally(() => clearTimeout(timer));
      if (attempt > 1) o.log.warn({ node: o.agent.node, attempt }, 'mesh agent joined after retrying');
      return joined;
    } catch (err) {
      abandoned = true;
      await close?.().catch(() => {});
      const elapsed = Date.now() - started;
      const pause = joinBackoffMs(attempt, o.retry.firstBackoffMs, o.retry.maxBackoffMs);
      if (o.retry.signal.aborted || elapsed + pause > o.retry.giveUpMs) {
        // Thrown, not only logged: the CLI prints it on stderr as it exits, after which a buffered log line may be lost.
        throw new Error(`gave up joining the mesh after ${attempt} attempts in ${elapsed} ms: ${(err as Error).message}`, { cause: err });
      }
      o.log.warn({ node: o.agent.node, attempt, retryInMs: pause, error: (err as Error).message }, 'mesh agent could not join; retrying');
      await sleepUnlessAborted(pause, o.retry.signal);
    }
  }
}
