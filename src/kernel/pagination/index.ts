/** Keyset pagination for lists ordered by (time, id): opaque cursors and one page-size rule. See docs/kernel.md#pagination. */
export { encodeCursor, decodeCursor, type KeysetCursor, type PageOrder } from './keyset-cursor.ts';
export { pageLimit, pageLimitParam, cutPage, MAX_PAGE_LIMIT, DEFAULT_PAGE_LIMIT } from './page.ts';
