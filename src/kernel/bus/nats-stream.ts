/** The NATS bus's JetStream stream and durable consumers, created or updated idempotently. */
import { AckPolicy, DeliverPolicy, DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type ConsumerConfig, type JetStreamManager } from '@nats-io/jetstream';
import { Conflict } from '../errors.ts';
import type { ResolvedDurable } from './durable-options.ts';

/** Milliseconds to the nanoseconds the JetStream API uses. */
export function nanos(ms: number): number {
  return Math.round(ms * 1_000_000);
}

/** The default stream name for a subject prefix: CAPSTAN_<PREFIX>, upper-cased, only letters, digits, _ and -. */
export function streamNameFor(prefix: string): string {
  return `CAPSTAN_${prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_')}`;
}

/** Limits of the bus stream. */
export interface StreamLimits {
  maxAgeMs: number;
  duplicateWindowMs: number;
}

function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

/** Creates the stream holding `${prefix}.>` or brings its limits up to date; safe to call from many processes at once. */
export async function ensureStream(jsm: JetStreamManager, name: string, prefix: string, limits: StreamLimits): Promise<void> {
  const subjects = [`${prefix}.>`];
  const max_age = nanos(limits.maxAgeMs);
  // The duplicate window may not exceed the max age.
  const duplicate_window = nanos(Math.min(limits.duplicateWindowMs, limits.maxAgeMs));
  const update = async () => {
    const info = await jsm.streams.info(name);
    const c = info.config;
    if (c.max_age !== max_age || c.duplicate_window !== duplicate_window || c.subjects?.join() !== subjects.join()) {
      await jsm.streams.update(name, { subjects, max_age, duplicate_window });
    }
  };
  try {
    await update();
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
    try {
      await jsm.streams.add({ name, subjects, storage: StorageType.File, retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old, max_age, duplicate_window });
    } catch (addErr) {
      // Another process may have created it between our info and add.
      await update().catch(() => {
        throw addErr;
      });
    }
  }
}

function consumerConfig(d: ResolvedDurable, subject: string): Partial<ConsumerConfig> {
  const cfg: Partial<ConsumerConfig> = {
    durable_name: d.name,
    filter_subject: subject,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(d.ackWaitMs),
    max_deliver: d.maxDeliver ?? -1,
    deliver_policy: DeliverPolicy.New,
  };
  const s = d.start;
  if (s === 'all') cfg.deliver_policy = DeliverPolicy.All;
  else if (typeof s === 'object' && 'sequence' in s) Object.assign(cfg, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: s.sequence });
  else if (typeof s === 'object') Object.assign(cfg, { deliver_policy: DeliverPolicy.StartTime, opt_start_time: s.time.toISOString() });
  return cfg;
}

/** The consumer was deleted to be created again with a new filter. */
class ConsumerGone extends Error {}

/** Creates the durable pull consumer, or reuses it (start position ignored) after checking its filter and updating its limits. */
export async function ensureConsumer(jsm: JetStreamManager, stream: string, subject: string, d: ResolvedDurable): Promise<void> {
  const reuse = async () => {
    const c = (await jsm.consumers.info(stream, d.name)).config;
    if (c.filter_subject !== subject && d.onPatternChange === 'replace') {
      // NATS 2.9 cannot change a consumer's filter: delete it, then create it (below) as if it never existed.
      await jsm.consumers.delete(stream, d.name).catch((err: unknown) => {
        if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
      });
      throw new ConsumerGone();
    }
    if (c.filter_subject !== subject) {
      throw new Conflict(`durable '${d.name}' exists with pattern '${c.filter_subject}'`, { name: d.name, filterSubject: c.filter_subject });
    }
    const want = { ack_wait: nanos(d.ackWaitMs), max_deliver: d.maxDeliver ?? -1 };
    if (c.ack_wait !== want.ack_wait || c.max_deliver !== want.max_deliver) await jsm.consumers.update(stream, d.name, want);
  };
  try {
    await reuse();
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound) && !(err instanceof ConsumerGone)) throw err;
    try {
      await jsm.consumers.add(stream, consumerConfig(d, subject));
    } catch (addErr) {
      // A concurrent subscriber may have created it with a different start position; share that one.
      await reuse().catch((e: unknown) => {
        throw e instanceof Conflict ? e : addErr;
      });
    }
  }
}
