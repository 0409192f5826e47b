/** `capstan agent`: the always-on node daemon (needs NATS_URL; without it, a one-node mesh on the memory KV). */
import { parseFlags, untilAborted, UsageError, type LocalCommand } from '../../../kernel/index.ts';
import { timingSchema } from '../model/timing.ts';
import { nodeIdSchema } from '../model/workload.ts';
import { joinMesh } from '../runtime/join.ts';
import type { MeshConfig } from '../config.ts';

/** Parses `k=v,k2=v2`; throws UsageError naming --labels. */
export function parseLabels(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!s) return out;
  for (const part of s.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) throw new UsageError(`--labels: '${part}' is not key=value`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got '${v}'`);
  return n;
}

/** How long `capstan agent` keeps retrying its join before it exits non-zero (a supervisor may restart it then). */
export const DEFAULT_JOIN_GIVE_UP_MS = 120_000;

/** The command object registered by the module. */
export const agentCommand: LocalCommand<MeshConfig> = {
  description: 'join the mesh as a node: heartbeat, lead by lease, run assigned workloads',
  usage: 'agent --node-id ID --site S [--labels k=v,...] [--capacity N] [--port N] [--history FILE] [--join-give-up-ms N] [--join-attempt-timeout-ms N] [--lease-ms N ...]',
  async run(argv, ctx) {
    const { values } = parseFlags(argv, {
      'node-id': { type: 'string' },
      site: { type: 'string' },
      labels: { type: 'string' },
      capacity: { type: 'string' },
      port: { type: 'string' },
      history: { type: 'string' },
      'lease-ms': { type: 'string' },
      'renew-ms': { type: 'string' },
      'renew-deadline-ms': { type: 'string' },
      'stop-grace-ms': { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      'join-give-up-ms': { type: 'string' },
      'join-attempt-timeout-ms': { type: 'string' },
    });
    const node = nodeIdSchema.safeParse(values['node-id']);
    if (!node.success) throw new UsageError(`--node-id: ${values['node-id'] === undefined ? 'required' : node.error.issues[0]!.message}`);
    if (!values.site || !/^[A-Za-z0-9_-]+$/.test(values.site)) throw new UsageError('--site: required, letters, digits, - and _');
    const capacity = int('capacity', values.capacity) ?? 4;
    if (capacity < 1) throw new UsageError('--capacity must be ≥ 1');
    const timing = timingSchema.safeParse({
      ...ctx.config.timing,
      ...Object.fromEntries(
        Object.entries({ leaseMs: int('lease-ms', values['lease-ms']), renewMs: int('renew-ms', values['renew-ms']), renewDeadlineMs: int('renew-deadline-ms', values['renew-deadline-ms']), stopGraceMs: int('stop-grace-ms', values['stop-grace-ms']), heartbeatMs: int('heartbeat-ms', values['heartbeat-ms']) }).filter(([, v]) => v !== undefined),
      ),
    });
    if (!timing.success) throw new UsageError(`timing: ${timing.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const giveUpMs = int('join-give-up-ms', values['join-give-up-ms']) ?? DEFAULT_JOIN_GIVE_UP_MS;
    if (giveUpMs < 0) throw new UsageError('--join-give-up-ms must be ≥ 0');
    const attemptTimeoutMs = int('join-attempt-timeout-ms', values['join-attempt-timeout-ms']);
    if (attemptTimeoutMs !== undefined && attemptTimeoutMs < 1) throw new UsageError('--join-attempt-timeout-ms must be ≥ 1');
    const stopping = new AbortController();
    const stop = () => stopping.abort();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    const joined = await joinMesh({
      natsUrl: ctx.natsUrl,
      prefix: ctx.prefix,
      log: ctx.log,
      retry: { giveUpMs, attemptTimeoutMs, signal: stopping.signal },
      agent: { node: node.data, site: values.site, labels: parseLabels(values.labels), capacity, timing: timing.data, log: ctx.log, port: int('port', values.port), historyFile: values.history },
    });
    if (joined.mode === 'embedded') ctx.log.warn('NATS_URL is not set: running a one-node mesh on the in-memory KV');
    console.log(`agent ${node.data} joined (site ${values.site}); endpoint ${joined.agent.tokenUrl}`);
    await untilAborted(stopping.signal);
    await joined.close();
    return 0;
  },
};

