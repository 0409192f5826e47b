/** Removes the password from a connection URL so it can be logged or printed. */

/** `postgres://user:secret@host/db` -> `postgres://user:***@host/db`; strings that are not URLs are returned masked. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
