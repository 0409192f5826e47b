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
  /** Aborts the retries (SIGTERM while still joining). */
  signal: AbortSignal;
}

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
    try {
      const coord = await openCoordination({ natsUrl: o.natsUrl, prefix: o.prefix, source: `agent-${o.agent.node}` });
      close = coord.close;
      const agent = new Agent({ ...o.agent, kv: coord.kv, bus: coord.bus });
      close = async () => {
        await agent.stop().catch(() => {});
        await coord.close().catch(() => {});
      };
      await agent.start();
      if (attempt > 1) o.log.warn({ node: o.agent.node, attempt }, 'mesh agent joined after retrying');
      return { agent, mode: coord.mode, close: async () => { await agent.stop(); await coord.close(); } };
    } catch (err) {
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
