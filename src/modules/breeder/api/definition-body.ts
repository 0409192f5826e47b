/** Reads a breeder definition from a request body: YAML or JSON by content type; bad text is a 400 naming the body. */
import { parse as parseYaml } from 'yaml';
import { BODY, CapstanError, duplicateJsonKeys, Invalid, issuesUnder } from '../../../kernel/index.ts';

/** YAML and JSON types, text/plain, none, and curl's default form type are text; anything else is refused (415). */
function format(contentType: string | undefined): 'yaml' | 'json' {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (/^application\/([\w.-]+\+)?json$/.test(media)) return 'json';
  if (media === '' || media === 'text/plain' || media === 'application/x-www-form-urlencoded' || /^(application|text)\/(x-)?yaml$/.test(media)) return 'yaml';
  throw new CapstanError('UnsupportedMediaType', 415, `a definition is sent as application/yaml or application/json, not ${media}`, {
    errors: [{ path: 'header.content-type', message: 'application/yaml or application/json' }],
  });
}

/** The decoded document of a definition upload (not yet checked against the schema). */
export function decodeDefinition(text: string, contentType: string | undefined): unknown {
  const f = format(contentType);
  if (!text.trim()) throw new Invalid('empty definition', [{ path: BODY, message: 'a YAML or JSON definition is required' }]);
  try {
    if (f === 'json') {
      const value: unknown = JSON.parse(text);
      const dups = duplicateJsonKeys(text);
      if (dups.length) throw new Invalid('duplicate keys in the definition', issuesUnder(BODY, dups.map((d) => ({ path: d, message: 'duplicate key' }))));
      return value;
    }
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    if (err instanceof Invalid) throw err;
    throw new Invalid(`the definition is not valid ${f.toUpperCase()}`, [{ path: BODY, message: (err as Error).message.split('\n')[0]! }]);
  }
}
