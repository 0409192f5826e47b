/** Small async helpers shared by tests. */
import { eventually as kitEventually } from '../kit/eventually.ts';

/** Resolves with what `p` rejected with; fails if it resolves. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** Polls `check` until it returns a value other than undefined; fails naming `what` after `timeoutMs` (the kit's eventually). */
export function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  return kitEventually(async () => (await check()) as T | undefined, { what, timeout: timeoutMs }) as Promise<T>;
}
