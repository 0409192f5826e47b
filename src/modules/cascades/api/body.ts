/** Request parsing for the cascades routes: JSON bodies and queries checked with zod, errors naming the field. */
import type { Context } from 'hono';
import type * as z from 'zod';
import { CapstanError, Invalid, zodIssues, type AppEnv } from '../../../kernel/index.ts';

/** Reads a JSON body (empty means `{}`) and checks it; Invalid names `body.<field>`. */
export async function jsonBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.output<S>> {
  const raw = await c.req.text();
  let value: unknown = {};
  if (raw.trim()) {
    if (!/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(c.req.header('content-type') ?? '')) {
      throw new CapstanError('UnsupportedMediaType', 415, 'send the body as application/json', { errors: [{ path: 'header.content-type', message: 'must be application/json' }] });
    }
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new Invalid('the body is not valid JSON', [{ path: 'body', message: (err as Error).message }]);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Invalid('invalid request body', zodIssues(parsed.error, 'body'));
  return parsed.data;
}

/** Checks the query string; Invalid names `query.<param>`. */
export function queryOf<S extends z.ZodType>(c: Context<AppEnv>, schema: S): z.output<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw new Invalid('invalid query', zodIssues(parsed.error, 'query'));
  return parsed.data;
}

/** How to read a definition body from its content type (YAML unless it says JSON). */
export function definitionFormat(contentType: string | undefined): 'yaml' | 'json' {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (/^application\/([\w.-]+\+)?json$/.test(media)) return 'json';
  if (media === '' || media === 'text/plain' || media === 'application/x-www-form-urlencoded' || /^(application|text)\/(x-)?yaml$/.test(media)) return 'yaml';
  throw new CapstanError('UnsupportedMediaType', 415, `a definition is sent as application/yaml or application/json, not ${media}`, { errors: [{ path: 'header.content-type', message: 'application/yaml or application/json' }] });
}
