/** Typed errors with a stable `code` and an HTTP `status`; the HTTP shell renders them as problem+json. */

/** One invalid field: a dotted path and why it is invalid. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** Base class of every error the kernel and modules raise on purpose. */
export class CapstanError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }
}

/** 400: input failed validation; `issues` names every bad field. */
export class Invalid extends CapstanError {
  constructor(message: string, readonly issues: FieldIssue[] = []) {
    super('Invalid', 400, message, { issues });
  }
}

/** 401: no credentials or unknown credentials. */
export class Unauthorized extends CapstanError {
  constructor(message = 'a valid bearer token is required') {
    super('Unauthorized', 401, message);
  }
}

/** 403: credentials are valid but lack a scope. */
export class Forbidden extends CapstanError {
  constructor(message: string) {
    super('Forbidden', 403, message);
  }
}

/** 404: the named thing does not exist. */
export class NotFound extends CapstanError {
  constructor(what: string) {
    super('NotFound', 404, `${what} not found`);
  }
}

/** 405: the path exists but not for this method; `allow` lists the methods it has (sent as the Allow header). */
export class MethodNotAllowed extends CapstanError {
  constructor(method: string, path: string, readonly allow: string[]) {
    super('MethodNotAllowed', 405, `${path} does not answer ${method}; it answers ${allow.join(', ')}`, { allow });
  }
}

/** 409: the request conflicts with current state (exists already, wrong revision, held by another). */
export class Conflict extends CapstanError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('Conflict', 409, message, details);
  }
}

/** 413: the request body is larger than the configured limit. */
export class PayloadTooLarge extends CapstanError {
  constructor(limitBytes: number) {
    super('PayloadTooLarge', 413, `request body exceeds ${limitBytes} bytes`, { limitBytes });
  }
}

/** 429: the caller's rate limit is spent; retry after `retryAfterSeconds`. */
export class RateLimited extends CapstanError {
  constructor(readonly retryAfterSeconds: number) {
    super('RateLimited', 429, `rate limit exceeded; retry after ${retryAfterSeconds}s`, { retryAfterSeconds });
  }
}

/** 503: the module that owns an action or route is disabled in config. */
export class ModuleDisabled extends CapstanError {
  constructor(module: string) {
    super('ModuleDisabled', 503, `module '${module}' is disabled`, { module });
  }
}

/** 503: a dependency (database, queue, bus, KV) is unreachable. */
export class Unavailable extends CapstanError {
  constructor(message: string) {
    super('Unavailable', 503, message);
  }
}
