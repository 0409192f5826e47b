/**
 * Outbox rows built inside a statement, for events whose data comes from the rows the statement changes (cancel,
 * signal, the sweeper's recoveries): the event commits with the change or not at all.
 */
import { outboxInsertFromJson } from '../../../kernel/index.ts';

/**
 * `INSERT INTO kernel_outbox ...` of one event per row of the caller's FROM: `type` and the SQL expressions for the
 * event id, its data (a jsonb expression) and its correlation id. The caller appends FROM.
 */
export function insertEventFromSql(type: string, idSql: string, dataSql: string, correlationSql: string): string {
  const row = `jsonb_build_object('id', ${idSql}, 'type', '${type}'::text, 'subject', NULL::text, 'data', ${dataSql}, 'correlationId', ${correlationSql})`;
  return outboxInsertFromJson(row);
}
