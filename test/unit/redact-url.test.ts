/** redactUrl: connection URLs in logs and errors never carry a password. */
import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/kernel/redact-url.ts';

describe('redactUrl', () => {
  it('masks the password and keeps user, host, port, database and query', () => {
    const out = redactUrl('postgres://capstan:s3cret@db.internal:5433/app?sslmode=require');
    expect(out).toBe('postgres://capstan:***@db.internal:5433/app?sslmode=require');
  });

  it('masks passwords of Redis and NATS URLs, including a password-only Redis URL', () => {
    expect(redactUrl('redis://:hunter2@127.0.0.1:6379/0')).toBe('redis://:***@127.0.0.1:6379/0');
    expect(redactUrl('nats://user:pa55@127.0.0.1:4222')).toBe('nats://user:***@127.0.0.1:4222');
  });

  it('masks percent-encoded passwords with special characters', () => {
    const out = redactUrl('postgres://u:p%40ss%3Aw0rd@h/db');
    expect(out).toBe('postgres://u:***@h/db');
    expect(out).not.toContain('w0rd');
  });

  it('leaves URLs without a password unchanged', () => {
    expect(redactUrl('postgres://postgres@127.0.0.1:5432/test')).toBe('postgres://postgres@127.0.0.1:5432/test');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  it('does not echo a string it cannot parse, since it may be a password', () => {
    const out = redactUrl('not a url with secret');
    expect(out).not.toContain('secret');
  });
});
