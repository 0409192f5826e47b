/**
 * Every request body is read once, by the shell, before any route or schema sees it: size limit (also for chunked
 * bodies), strict UTF-8 for text bodies (no silent U+FFFD), and a nesting limit for JSON (a 10,000-deep array
 * otherwise overflows the stack of the first recursive schema check and answers 500). Routes then read the cached
 * text through Hono's `c.req.text()/json()/valid('json')` as before.
 */
import type { Context } from 'hono';
import { Invalid, PayloadTooLarge } from '../errors.ts';

/** Deepest JSON nesting accepted in a request body: far above any real document (stored values allow 64 inside a body). */
export const MAX_JSON_DEPTH = 128;

const JSON_MEDIA = /^application\/([\w.-]+\+)?json$/;
/** Bodies that are text whatever their charset parameter says; anything else (images, multipart, octet-stream) is left as bytes. */
const TEXT_MEDIA = /^(text\/|application\/(([\w.-]+\+)?json|(x-)?yaml|x-www-form-urlencoded|([\w.-]+\+)?xml)$)/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Where checkBody leaves the decoded text on the request, for readers that can use it without a promise. */
const CHECKED_TEXT = Symbol('checkedText');

/** The body text checkBody decoded (UTF-8 checked, nesting checked), or undefined when it did not read this body as text. */
export function checkedTextOf(c: Context): string | undefined {
  return (c.req as unknown as { [CHECKED_TEXT]?: string })[CHECKED_TEXT];
}

/** True when `text` nests arrays/objects deeper than `max` (brackets inside strings do not count). One pass, no recursion. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92 /* \ */) i++;
      else if (ch === 34 /* " */) inString = false;
    } else if (ch === 34) inString = true;
    else if (ch === 123 /* { */ || ch === 91 /* [ */) {
      if (++depth > max) return true;
    } else if (ch === 125 /* } */ || ch === 93 /* ] */) depth--;
  }
  return false;
}

/**
 * The dotted path (from `body`) of the first value nested past `max`, for the error. A second, slower pass that
 * runs only on a refused body: it keeps each open container's current key or index.
 */
export function deepJsonPath(text: string, max: number): string {
  const keys: (string | number)[] = [];
  const isArray: boolean[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 34) {
      const start = i;
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
      if (expectKey) {
        try {
          keys[keys.length - 1] = JSON.parse(text.slice(start, i + 1)) as string;
        } catch {
          keys[keys.length - 1] = text.slice(start + 1, i);
        }
        expectKey = false;
      }
    } else if (ch === 123 || ch === 91) {
      if (keys.length >= max) break;
      keys.push(ch === 91 ? 0 : '');
      isArray.push(ch === 91);
      expectKey = ch === 123;
    } else if (ch === 125 || ch === 93) {
      keys.pop();
      isArray.pop();
    } else if (ch === 44 /* , */) {
      if (isArray.at(-1)) (keys[keys.length - 1] as number)++;
      else expectKey = true;
    }
  }
  return ['body', ...keys].join('.');
}

/**
 * Reads the body, refusing it with 413 as soon as it passes `limit` bytes (a chunked body has no length to check first).
 * `bytes()`, not `arrayBuffer()`: in Bun the latter copies the body once more and cost about a microsecond per request.
 */
async function readLimited(raw: Request, limit: number): Promise<Uint8Array> {
  const length = raw.headers.get('content-length');
  if (length !== null && !raw.headers.has('transfer-encoding')) {
    if (Number(length) > limit) throw new PayloadTooLarge(limit);
    return raw.bytes();
  }
  const reader = raw.body!.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new PayloadTooLarge(limit);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return all;
}

/** The bytes as an ArrayBuffer of exactly their length (what `c.req.arrayBuffer()` must resolve to). */
function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  const buf = bytes.buffer as ArrayBuffer;
  return bytes.byteOffset === 0 && bytes.byteLength === buf.byteLength ? buf : buf.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

/** The media type of a Content-Type header, lower-case, without parameters ('' when absent). */
function mediaType(header: string | null): string {
  if (!header) return '';
  const semi = header.indexOf(';');
  return (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase();
}

/**
 * Reads and checks the request's body (if any) and caches it on `c.req`, so that later `c.req.text()`, `json()`,
 * `arrayBuffer()` and the zod validators use the checked copy. Throws 413 / 400 (`body`) problems.
 */
export async function checkBody(c: Context, limit: number): Promise<void> {
  const raw = c.req.raw;
  if (!raw.body) return;
  const bytes = await readLimited(raw, limit);
  const media = mediaType(raw.headers.get('content-type'));
  // Hono types the cache by value but stores (and reads) promises.
  const cache = c.req.bodyCache as Record<string, Promise<unknown>>;
  if (media === '' || TEXT_MEDIA.test(media)) {
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new Invalid('the request body is not valid UTF-8', [{ path: 'body', message: 'not valid UTF-8' }]);
    }
    if (JSON_MEDIA.test(media) && jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      throw new Invalid('the request body is nested too deeply', [{ path: deepJsonPath(text, MAX_JSON_DEPTH), message: `nested deeper than ${MAX_JSON_DEPTH} levels (the limit for any JSON request body)` }]);
    }
    cache.text = Promise.resolve(text);
    (c.req as unknown as { [CHECKED_TEXT]?: string })[CHECKED_TEXT] = text;
  }
  cache.arrayBuffer = Promise.resolve(exactBuffer(bytes));
}
