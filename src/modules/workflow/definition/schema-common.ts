/** Zod pieces shared by the state-machine and DAG schemas. They check shape only; meaning is checked on compile. */
import * as z from 'zod';

/** Status (state) names and workflow names: lower case, digits, '_' and '-', starting with a letter. */
export const NAME_RE = /^[a-z][a-z0-9_-]*$/;
/** `<module>.<verb>[.more]`, as registered in the kernel's action registry. */
export const ACTION_NAME_RE = /^[a-z][a-z0-9_-]*(\.[A-Za-z0-9_-]+)+$/;
/** HTTP header names (RFC 9110 token characters). */
const HEADER_NAME_RE = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** A status name. */
export const StatusName = z.string().max(64).regex(NAME_RE, 'use lower case letters, digits, _ and -, starting with a letter');
/** A workflow name (also used in role names and URLs). */
export const WorkflowName = StatusName;
/** A registered action name. */
export const ActionName = z.string().max(128).regex(ACTION_NAME_RE, "expected '<module>.<action>', e.g. 'cascades.run'");
/** A duration such as '30s'; its value is checked on compile so that every problem is reported at once. */
export const DurationText = z.string().max(40);
/** Any JSON value; strings in it may hold `{{ path }}` interpolations. */
export const JsonTemplate = z.json();
/** A URL; `{{ path }}` allowed after a literal http:// or https:// prefix (checked on compile). */
export const UrlTemplate = z.string().min(1).max(2048);
/** Request headers; values may hold `{{ path }}`. */
export const Headers = z.record(z.string().regex(HEADER_NAME_RE, 'invalid header name'), z.string().max(8192));
/** Timeout of one HTTP call or command, in milliseconds (at most one hour). */
export const TimeoutMs = z.int().min(1).max(3_600_000);

/** Retry of one step: total attempts and the first delay, doubled after each failure (see retry-policy.ts). */
export const RetrySpec = z.strictObject({
  attempts: z.int().min(1).max(100),
  backoff: DurationText.optional(),
});

/** A call to a registered action with an input template. */
export const ActionCallSpec = z.strictObject({
  name: ActionName,
  input: JsonTemplate.optional(),
});

/** What to do once a run completes: call an action or POST the run to a URL (best effort, not a status). */
export const OnCompleteSpec = z
  .strictObject({
    action: ActionCallSpec.optional(),
    http: z.strictObject({ url: UrlTemplate, headers: Headers.optional(), timeoutMs: TimeoutMs.optional() }).optional(),
  })
  .refine((v) => (v.action === undefined) !== (v.http === undefined), 'onComplete needs exactly one of action or http');
