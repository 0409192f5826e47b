/** Input rules every module applies at its edge: storable text and JSON, safe keys, durations, ISO dates. See docs/kernel.md#input-rules. */
export { assertStorable, storableIssues, textProblem, MAX_VALUE_DEPTH, type StorableIssue } from './storable-json.ts';
export { unsafeKeyIssues, UNSAFE_KEYS, MAX_DOCUMENT_DEPTH } from './unsafe-keys.ts';
export { duplicateJsonKeys } from './json-duplicate-keys.ts';
export { parseDuration, formatDuration, collectDuration, MAX_DURATION_MS } from './duration.ts';
export { storableText, storableJson, isoDate } from './zod-fields.ts';
