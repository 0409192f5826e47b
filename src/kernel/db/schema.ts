/** The kernel's own tables; modules keep theirs in src/modules/<name>/store/schema.ts; each owner has its own migrations/ beside its schema. */
import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Transactional outbox: a module writes its state change and the event row in one transaction; the relay
 * publishes rows in `id` order (the bigserial primary key is the order index) and deletes or marks them after.
 */
export const kernelOutbox = pgTable(
  'kernel_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The event envelope's id; unique so a retried transaction cannot enqueue the same event twice. */
    eventId: text('event_id').notNull().unique(),
    type: text('type').notNull(),
    /** The subject to publish on when it is more than the type (the type plus routing tokens); null means the type. */
    subject: text('subject'),
    data: jsonb('data').notNull(),
    correlationId: text('correlation_id'),
    /** W3C trace context of the writer (null while tracing is off): the relay's publication continues that trace. */
    traceparent: text('traceparent'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // Lets operators find an event's outbox row by correlation (e.g. all events of one workflow run).
  (t) => [index('kernel_outbox_correlation_id_idx').on(t.correlationId)],
);

/** A row of `kernel_outbox` as selected. */
export type KernelOutboxRow = typeof kernelOutbox.$inferSelect;
/** A row of `kernel_outbox` as inserted. */
export type NewKernelOutboxRow = typeof kernelOutbox.$inferInsert;
