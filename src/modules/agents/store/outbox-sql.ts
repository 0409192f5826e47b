/**
 * Events written by the same statement as the row change they announce (the kernel outbox): a crash between the write
 * and a publish cannot lose them, and a write that did not happen (fenced out, already ended) writes no event.
 */
import { OUTBOX_NOTIFY_SQL, outboxInsertFromJson, toOutboxJsonRows, type OutboxEvent } from '../../../kernel/index.ts';

/**
 * The CTE `ob`: inserts the events of the JSON array in parameter `param` (outboxRows) into kernel_outbox, in their
 * order, when the CTE `upd` of the same statement returned a row.
 */
export const outboxCte = (param: string): string =>
  `ob AS (${outboxInsertFromJson('e.row')} FROM jsonb_array_elements((${param}::text)::jsonb) WITH ORDINALITY AS e(row, n) WHERE EXISTS (SELECT 1 FROM upd) ORDER BY e.n RETURNING ${OUTBOX_NOTIFY_SQL} AS notified)`;

/** The parameter value of outboxCte: the events as outbox rows, correlated with `correlationId` unless they say otherwise. */
export const outboxRows = (events: OutboxEvent | readonly OutboxEvent[], correlationId: string): string => JSON.stringify(toOutboxJsonRows(Array.isArray(events) ? events : [events as OutboxEvent], correlationId));
