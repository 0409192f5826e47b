/** The transactional outbox: enqueue an event in the caller's transaction; a lease-held relay publishes rows in id order. */
import { sql } from 'drizzle-orm';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EventBus } from './bus/port.ts';
import type { Database, Db } from './db/port.ts';
import { Invalid } from './errors.ts';
import { kernelOutbox } from './db/schema.ts';
import { newId } from './ids.ts';
import type { Logger } from './log.ts';
import type { Roles } from './roles/types.ts';
import { subjectOf, validateRoute, validateType } from './bus/subject-pattern.ts';
import { sleepUnlessAborted } from './time.ts';
import { currentTraceparent, withSpan } from './tracing/spans.ts';

/** An event to publish once the surrounding transaction commits. */
export interface OutboxEvent {
  type: string;
  data: unknown;
  correlationId?: string;
  /** The envelope id; also the bus's dedup key, so a relay retry cannot publish it twice. Default: newId(). */
  id?: string;
  /** Routing tokens after the type (see PublishOptions.route); each made with subjectToken. */
  route?: string[];
}

/**
 * The kernel_outbox.subject value of an event: null when it travels on its type. Throws Invalid for a type or route
 * the bus would refuse, so the writer fails instead of committing an event that can never be published.
 */
export function outboxSubject(event: Pick<OutboxEvent, 'type' | 'route'>): string | null {
  validateType(event.type);
  validateRoute(event.route);
  return event.route && event.route.length > 0 ? subjectOf(event.type, event.route) : null;
}

/**
 * The PostgreSQL channel the relays LISTEN on. A statement that writes outbox rows should also
 * `SELECT pg_notify('kernel_outbox', '')` (OUTBOX_NOTIFY_SQL): PostgreSQL delivers it at commit, to every instance,
 * and folds repeats within one transaction into one.
 */
export const OUTBOX_CHANNEL = 'kernel_outbox';
/** The SQL expression that wakes the relays at commit (usable in a select list or RETURNING). */
export const OUTBOX_NOTIFY_SQL = `pg_notify('${OUTBOX_CHANNEL}', '')`;

/** An outbox row as JSON, for one-statement writers that insert rows from a JSON array (outboxInsertFromJson). */
export interface OutboxJsonRow {
  id: string;
  type: string;
  subject: string | null;
  data: unknown;
  correlationId: string;
  /** The writer's trace context (absent while tracing is off). */
  traceparent?: string;
}

/**
 * The rows of `events` as JSON, ids fixed now (so a retried statement cannot enqueue an event twice), correlated
 * with `correlationId` unless an event says otherwise. Throws Invalid as outboxSubject does.
 */
export function toOutboxJsonRows(events: readonly OutboxEvent[], correlationId: string): OutboxJsonRow[] {
  const traceparent = currentTraceparent();
  return events.map((e) => ({ id: e.id ?? newId(), type: e.type, subject: outboxSubject(e), data: e.data ?? null, correlationId: e.correlationId ?? correlationId, ...(traceparent ? { traceparent } : {}) }));
}

/**
 * `INSERT INTO kernel_outbox ... SELECT` of the OutboxJsonRow in the jsonb expression `row`; the caller appends its
 * FROM (which defines `row`) and ORDER BY, which fixes the rows' id order.
 */
export function outboxInsertFromJson(row: string): string {
  return `INSERT INTO kernel_outbox (event_id, type, subject, data, correlation_id, traceparent)
  SELECT ${row}->>'id', ${row}->>'type', ${row}->>'subject', ${row}->'data', ${row}->>'correlationId', ${row}->>'traceparent'`;
}

/** Inserts the event into kernel_outbox inside `tx`; returns the event id. Nothing is published if `tx` rolls back. */
export async function enqueueEvent(tx: Db, event: OutboxEvent): Promise<string> {
  const id = event.id ?? newId();
  // RETURNING the notification keeps it to one statement; it is sent only if the transaction commits.
  await tx
    .insert(kernelOutbox)
    .values({ eventId: id, type: event.type, subject: outboxSubject(event), data: event.data ?? null, correlationId: event.correlationId, traceparent: currentTraceparent() })
    .returning({ notified: sql.raw(OUTBOX_NOTIFY_SQL) });
  return id;
}

// Relays in this process, woken when a writer says it committed outbox rows, so a relay that found the outbox
// empty does not sleep through its idle period while work is waiting.
const wakers = new Set<() => void>();

/**
 * Tells the relays of this process that outbox rows were committed (call after the commit). A relay on another
 * instance still finds them on its next poll.
 */
export function notifyOutboxWritten(): void {
  for (const wake of wakers) wake();
}

/** A row as the relay reads it. */
interface OutboxRow {
  event_id: string;
  type: string;
  subject: string | null;
  data: unknown;
  correlation_id: string | null;
  traceparent: string | null;
}

const SELECT_BATCH = 'SELECT event_id, type, subject, data, correlation_id, traceparent FROM kernel_outbox ORDER BY id LIMIT $1::int';
// By event id (unique): bigserial ids come back as strings or numbers depending on the adapter.
const DELETE_BATCH = 'DELETE FROM kernel_outbox WHERE event_id = ANY($1::text[])';

/** Options for the relay. */
export interface OutboxRelayOptions {
  db: Database;
  bus: EventBus;
  /** The relay runs while this instance holds the role `kernel-outbox-relay`. */
  roles: Roles;
  log: Logger;
  registry: Registry;
  source: string;
  leaseTtlMs: number;
  /** Rows per batch. Default 500. */
  batchSize?: number;
  /** Poll period while the outbox is empty and the relay cannot LISTEN for commits. Default 50 ms. */
  idleMs?: number;
  /** Poll period while LISTENing (a safety net for notifications lost while the database was away). Default 1 s. */
  listeningIdleMs?: number;
}

/** Relays outbox rows to the bus while this instance holds the relay role; one relay per deployment keeps order. */
export function startOutboxRelay(o: OutboxRelayOptions): { stop(): Promise<void> } {
  const batchSize = o.batchSize ?? 500;
  const idleMs = o.idleMs ?? 50;
  const relayed = new Counter({ name: 'outbox_relayed_total', help: 'Outbox events published by this instance', registers: [o.registry] });
  const polls = new Counter({ name: 'outbox_polls_total', help: 'Outbox polls by this instance (the relay polls every idle period while empty)', registers: [o.registry] });
  const dropped = new Counter({ name: 'outbox_dropped_total', help: 'Outbox events the bus refused as invalid (logged in full, then deleted)', registers: [o.registry] });
  const holding = new Gauge({ name: 'outbox_relay_leader', help: '1 while this instance holds the outbox relay role', registers: [o.registry] });
  registerOutboxBacklog(o.db, o.registry);
  let stopping = false;
  // Set by notifyOutboxWritten; a write noticed while a batch was being read means "poll again now".
  let written = false;
  let wakeIdle: (() => void) | undefined;
  const waker = () => {
    written = true;
    wakeIdle?.();
  };
  wakers.add(waker);
  // Commits anywhere in the deployment wake the relay through PostgreSQL; until the LISTEN is in place it polls.
  let unlisten: (() => Promise<void>) | undefined;
  let listening: Promise<void> | undefined;
  const listen = () =>
    (listening ??= o.db
      .listen(OUTBOX_CHANNEL, waker)
      .then((stop) => {
        unlisten = stop;
        if (stopping) void stop().catch(() => {});
      })
      .catch((err: unknown) => {
        o.log.warn({ err }, 'outbox relay cannot LISTEN; polling instead');
        listening = undefined;
      }));
  const idle = (signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, unlisten ? (o.listeningIdleMs ?? 1_000) : idleMs);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        wakeIdle = undefined;
        resolve();
      }
      wakeIdle = done;
      signal.addEventListener('abort', done, { once: true });
    });

  async function relayBatch(signal: AbortSignal): Promise<number> {
    written = false;
    // Prepared statements (one round trip each): the relay polls all the time, so its statements are hot too.
    const rows = await o.db.query<OutboxRow>(SELECT_BATCH, [batchSize]);
    polls.inc();
    if (rows.length === 0 || signal.aborted) return 0;
    // Published in id order on one connection; the bus dedups by envelope id if a crash makes us resend.
    const results = await Promise.allSettled(
      rows.map((r) =>
        // Each row continues the trace of the transaction that wrote it (a no-op while tracing is off).
        withSpan('outbox relay', { kind: 'internal', parent: r.traceparent, attributes: { 'messaging.message.id': r.event_id, 'messaging.destination.name': r.type } }, () =>
          o.bus.publish(r.type, r.data, {
            id: r.event_id,
            correlationId: r.correlation_id ?? undefined,
            source: o.source,
            ...(r.subject ? { route: r.subject.slice(r.type.length + 1).split('.') } : {}),
          }),
        ),
      ),
    );
    const failed = results.find((x) => x.status === 'rejected' && !(x.reason instanceof Invalid));
    if (failed) throw (failed as PromiseRejectedResult).reason;
    // A row the bus refuses (Invalid: a bad type or routing token, too large) would fail on every retry, holding up the
    // whole outbox and republishing its batch forever, past the bus's dedup window: it is logged in full and dropped.
    let refused = 0;
    for (const [i, x] of results.entries()) {
      if (x.status === 'fulfilled') continue;
      const r = rows[i]!;
      o.log.error({ err: x.reason, eventId: r.event_id, type: r.type, subject: r.subject, correlationId: r.correlation_id, data: r.data }, 'outbox event refused by the bus; dropped');
      refused++;
    }
    await o.db.query(DELETE_BATCH, [rows.map((r) => r.event_id)]);
    dropped.inc(refused);
    relayed.inc(rows.length - refused);
    return rows.length;
  }

  const role = o.roles.holdRole('kernel-outbox-relay', { ttlMs: o.leaseTtlMs }, async (signal) => {
    holding.set(1);
    try {
      if (!unlisten) void listen();
      while (!signal.aborted) {
        try {
          const n = await relayBatch(signal);
          // Only an empty poll waits: after a batch there may be more rows already, and waiting there adds a full
          // idle period to every step of every run.
          if (n === 0 && !written) await idle(signal);
        } catch (err) {
          o.log.warn({ err }, 'outbox relay failed; retrying');
          await sleepUnlessAborted(1_000, signal);
        }
      }
    } finally {
      holding.set(0);
    }
  });

  return {
    async stop() {
      stopping = true;
      wakers.delete(waker);
      await role.stop();
      await listening;
      await unlisten?.().catch(() => {});
    },
  };
}

/**
 * outbox_pending_events and outbox_oldest_event_age_seconds, read from the table at scrape time: every instance that
 * runs a relay reports the same deployment-wide numbers (alerts take the max), so a stuck relay shows as a growing
 * age even on the instances that do not hold the role.
 */
function registerOutboxBacklog(db: Database, registry: Registry): void {
  let last: Promise<{ n: number; age: number } | undefined> | undefined;
  // One query serves both gauges of a scrape: the first collect starts it, the second reuses it.
  const read = () =>
    (last ??= db
      .query<{ n: number | string; age: number | string | null }>('SELECT count(*)::int AS n, EXTRACT(EPOCH FROM (now() - min(created_at)))::float8 AS age FROM kernel_outbox')
      .then(([r]) => ({ n: Number(r?.n ?? 0), age: Math.max(0, Number(r?.age ?? 0)) }))
      // A scrape must not fail because the database is down; dependency_up reports that.
      .catch(() => undefined)
      .finally(() => setTimeout(() => (last = undefined), 0)));
  new Gauge({
    name: 'outbox_pending_events',
    help: 'Events in the outbox not yet published (the whole deployment), read at scrape time',
    registers: [registry],
    async collect() {
      const r = await read();
      if (r) this.set(r.n);
    },
  });
  new Gauge({
    name: 'outbox_oldest_event_age_seconds',
    help: 'Age of the oldest unpublished outbox event (0 when the outbox is empty), read at scrape time',
    registers: [registry],
    async collect() {
      const r = await read();
      if (r) this.set(r.age);
    },
  });
}

/** Number of rows waiting in the outbox (for tests and the console). */
export async function outboxDepth(db: Database): Promise<number> {
  const [row] = await db.db.select({ n: sql<number>`count(*)::int` }).from(kernelOutbox);
  return row?.n ?? 0;
}
