/** Key and bucket name rules shared by both KV adapters, so a key valid in memory is valid on NATS. */
import { Invalid } from '../errors.ts';

const KEY_RE = /^[-/_=A-Za-z0-9]+(\.[-/_=A-Za-z0-9]+)*$/;
const BUCKET_RE = /^[-_A-Za-z0-9]+$/;

/** Throws Invalid unless `key` is dot-separated tokens of `[-/_=A-Za-z0-9]`. */
export function validateKey(key: string): void {
  if (typeof key !== 'string' || !KEY_RE.test(key)) {
    throw new Invalid(`invalid key '${String(key)}'`, [{ path: 'key', message: 'dot-separated tokens of letters, digits, - / _ =' }]);
  }
}

/** Throws Invalid unless `prefix` is empty or a valid key optionally ending in '.'. */
export function validatePrefix(prefix: string): void {
  if (prefix === '') return;
  validateKey(prefix.endsWith('.') ? prefix.slice(0, -1) : prefix);
}

/** Throws Invalid unless `name` is letters, digits, - and _. */
export function validateBucket(name: string): void {
  if (!BUCKET_RE.test(name)) throw new Invalid(`invalid bucket name '${name}'`, [{ path: 'bucket', message: 'letters, digits, - and _' }]);
}
