/**
 * Names the kernel's stores and bus derive from names users choose (durable consumers, lease and KV keys): valid
 * and bounded whatever the input, and the same on every instance and in every version, so that instances agree on
 * them and a restart finds its durables again.
 */
import { createHash } from 'node:crypto';

/** The characters a derived name keeps: valid in a durable name, one KV key token and one subject token. */
const SAFE = /^[A-Za-z0-9_-]*$/;
/** Hex digits of SHA-256 in a shortened name: 40 bits, so distinct inputs sharing a prefix do not meet. */
const HASH_HEX = 10;
/** The shortest bound that leaves room for a readable prefix before the hash. */
const MIN_MAX = HASH_HEX + 2;

/**
 * `text` itself when it uses only letters, digits, `_` and `-` and has at most `max` characters (so names that were
 * already valid keep their form); otherwise its first characters (any other character as `_`), `-` and 10 hex digits
 * of the SHA-256 of the whole of `text`, exactly `max` characters or fewer.
 */
export function boundedName(text: string, max: number): string {
  if (!Number.isInteger(max) || max < MIN_MAX) throw new RangeError(`boundedName: max must be an integer >= ${MIN_MAX}`);
  if (text.length > 0 && text.length <= max && SAFE.test(text)) return text;
  const hash = createHash('sha256').update(text, 'utf8').digest('hex').slice(0, HASH_HEX);
  // Array.from splits by code point, so a prefix never ends in half a surrogate pair (which becomes one `_` anyway).
  const prefix = Array.from(text)
    .slice(0, max - HASH_HEX - 1)
    .map((ch) => (SAFE.test(ch) ? ch : '_'))
    .join('');
  return `${prefix}-${hash}`;
}
