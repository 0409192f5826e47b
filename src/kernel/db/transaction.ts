/** One transaction policy for both adapters: re-run the whole function on transient failures only. */
import type { Logger } from '../log.ts';
import { retry } from '../retry.ts';
import type { Db, TransactionOptions } from './port.ts';

/**
 * Runs `fn` in a drizzle transaction; on a transient failure (SQLSTATE 08/40/53/57: serialization failure,
 * deadlock, lost connection, ...) rolls back and runs `fn` again, up to `opts.attempts` times. Anything else
 * (a unique violation, a domain error) is rethrown at once, after the rollback.
 */
export function transactionWithRetry<T>(db: Db, fn: (tx: Db) => Promise<T>, opts: TransactionOptions = {}, log?: Logger): Promise<T> {
  const config = opts.isolationLevel ? { isolationLevel: opts.isolationLevel } : undefined;
  return retry(() => db.transaction((tx) => fn(tx), config), {
    attempts: opts.attempts ?? 5,
    onRetry: (err, attempt, delayMs) => log?.warn({ err, attempt, delayMs }, 'transaction failed with a transient error; running it again'),
  });
}
