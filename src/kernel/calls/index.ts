/** Outbound calls shared by modules: JSON over HTTP with a timeout and a host allowlist, and argv-only commands. See docs/kernel.md#outbound-calls. */
export { CallFailed, CallRefused } from './call-failed.ts';
export { callHttp, DEFAULT_HTTP_TIMEOUT_MS, type HttpRequest, type HttpCallOptions } from './http.ts';
export { parseHostAllowlist, hostAllowed } from './host-allowlist.ts';
export { runCommand, DEFAULT_COMMAND_TIMEOUT_MS, type CommandOptions } from './command.ts';
export { BUN_DEFAULT_FETCH_LIMIT, fetchLimit, fetchLimitWarning } from './fetch-limit.ts';
