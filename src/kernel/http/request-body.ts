/**
 * Every request body is read once, by the shell, before any route or schema sees it: size limit (also for chunked
 * bodies), strict UTF-8 for text bodies (no silent U+FFFD), and a nesting limit for JSON (a 10,000-deep array
 * otherwise overflows the stack of the first recursive schema check and answers 500). Routes then read the cached
 * text through Hono's `c.req.text()/json()/valid('json')` as before.
 */
import type { Context } from 'hono';
import { Invalid, PayloadTooLarge } from '../errors.ts';
import type { CheckedBody } from './request-state.ts';

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
 * Not an async function: with a Content-Length (every request a client sends whole) it hands back Bun's own promise.
 */
function readLimited(raw: Request, limit: number, sized?: boolean): Promise<Uint8Array> {
  // sized: the caller (the shell) found a Content-Length without Transfer-Encoding and refused one past the limit.
  if (sized) return raw.bytes();
  const length = raw.headers.get('content-length');
  if (sized === undefined && length !== null && !raw.headers.has('transfer-encoding')) {
    if (Number(length) > limit) throw new PayloadTooLarge(limit);
    return raw.bytes();
  }
  return readChunked(raw, limit);
}

/** A body without a length, read chunk by chunk and refused with 413 once it passes `limit` bytes. */
async function readChunked(raw: Request, limit: number): Promise<Uint8Array> {
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

/**
 * Whether a request carries a body, read from its headers when they tell: in Bun, touching `Request.body` builds a
 * ReadableStream (about 1.5 µs) and makes the later `bytes()` take the slower stream path (about 2 µs more). A server
 * request has a Content-Length or a Transfer-Encoding whenever it has a body; only requests made in-process
 * (`app.request`, tests) may have neither, and are asked directly. `sizedLength`: the Content-Length when the caller
 * already read it and found no Transfer-Encoding, null when there is no usable length (saves reading them again).
 */
export function hasRequestBody(raw: Request, sizedLength?: string | null): boolean {
  if (sizedLength !== undefined) return sizedLength !== null ? sizedLength !== '0' || raw.body !== null : raw.body !== null;
  const headers = raw.headers;
  const length = headers.get('content-length');
  if (length !== null && !headers.has('transfer-encoding')) return length !== '0' || raw.body !== null;
  return raw.body !== null;
}

/** The bytes as an ArrayBuffer of exactly their length (what `c.req.arrayBuffer()` must resolve to). */
function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  const buf = bytes.buffer as ArrayBuffer;
  return bytes.byteOffset === 0 && bytes.byteLength === buf.byteLength ? buf : buf.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

/** How a body of one Content-Type is checked: decoded as text or left as bytes, and whether its JSON nesting is counted. */
interface BodyKind {
  text: boolean;
  json: boolean;
}

/** The kind of body a Content-Type header announces (media type lower-case, without parameters; absent counts as text). */
function bodyKindOf(header: string | null): BodyKind {
  if (!header) return { text: true, json: false };
  const semi = header.indexOf(';');
  const media = (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase();
  return { text: media === '' || TEXT_MEDIA.test(media), json: JSON_MEDIA.test(media) };
}

// Clients send the same Content-Type on every request: the verdict on the last one is kept (a pure function of it).
let lastType: string | null = null;
let lastKind = bodyKindOf(null);

/**
 * Hono's body cache for a body checked as text: `text` at once (Hono derives `json()` from the first cached entry),
 * the ArrayBuffer only when asked: handing over the buffer of Bun's byte array cost as much as decoding the text.
 */
class TextBodyCache {
  declare text: Promise<string>;
  #bytes: Uint8Array;
  #buffer?: Promise<ArrayBuffer>;

  constructor(text: string, bytes: Uint8Array) {
    this.text = Promise.resolve(text);
    this.#bytes = bytes;
  }

  get arrayBuffer(): Promise<ArrayBuffer> {
    return (this.#buffer ??= Promise.resolve(exactBuffer(this.#bytes)));
  }
}

/** Checks the bytes read for a body of Content-Type `header`: strict UTF-8 and JSON nesting for text bodies. */
function checked(header: string | null, bytes: Uint8Array): CheckedBody {
  if (header !== lastType) {
    lastKind = bodyKindOf(header);
    lastType = header;
  }
  const kind = lastKind;
  if (!kind.text) return { bytes };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new Invalid('the request body is not valid UTF-8', [{ path: 'body', message: 'not valid UTF-8' }]);
  }
  if (kind.json && jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    throw new Invalid('the request body is nested too deeply', [{ path: deepJsonPath(text, MAX_JSON_DEPTH), message: `nested deeper than ${MAX_JSON_DEPTH} levels (the limit for any JSON request body)` }]);
  }
  return { bytes, text };
}

/**
 * Reads a request's body (call it only for a request that has one, `hasRequestBody`), rejecting with 413 past `limit`;
 * `checkBodyBytes` then checks what was read. Two steps so that the shell can check the bytes and call the route in
 * one continuation instead of one promise each. The shell does this before Hono makes a context; `installCheckedBody`
 * hands the result to the route's context.
 */
export function readBodyBytes(raw: Request, limit: number, sized?: boolean): Promise<Uint8Array> {
  try {
    return readLimited(raw, limit, sized);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Checks a body read by `readBodyBytes`: strict UTF-8 and JSON nesting for text bodies; throws 400 problems naming `body`. */
export function checkBodyBytes(raw: Request, bytes: Uint8Array): CheckedBody {
  return checked(raw.headers.get('content-type'), bytes);
}

/**
 * Leaves a checked body in Hono's body cache on `c.req`, so that later `c.req.text()`, `json()`, `arrayBuffer()` and
 * the zod validators use the checked copy.
 */
export function installCheckedBody(c: Context, body: CheckedBody): void {
  if (body.text === undefined) {
    // Hono types the cache by value but stores (and reads) promises.
    (c.req.bodyCache as Record<string, Promise<unknown>>).arrayBuffer = Promise.resolve(exactBuffer(body.bytes));
    return;
  }
  c.req.bodyCache = new TextBodyCache(body.text, body.bytes) as unknown as typeof c.req.bodyCache;
  (c.req as unknown as { [CHECKED_TEXT]?: string })[CHECKED_TEXT] = body.text;
}
