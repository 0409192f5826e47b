/**
 * The lexical check on a session's SQL (sql phases and the sql tool), before it runs. It is the second of two
 * guards: the statement runs as a per-session NOLOGIN role that may use only the session's schema, so reading or
 * writing any other table is refused by PostgreSQL itself. What a role cannot stop is the SQL changing its own role
 * back (SET ROLE / set_config('role', ...) are checked against the connection's user, not the current role), or
 * running SQL hidden in a string (query_to_xml, ts_stat): this check refuses those, by allowing one query statement
 * made of plain keywords and a fixed list of functions, and no catalog names.
 */

/** Functions a session's SQL may call (aggregates, window, text, number, date and JSON functions). */
const ALLOWED_FUNCTIONS = new Set(
  [
    'count', 'sum', 'avg', 'min', 'max', 'bool_and', 'bool_or', 'every', 'string_agg', 'array_agg', 'json_agg', 'jsonb_agg', 'json_object_agg', 'jsonb_object_agg',
    'stddev', 'variance', 'percentile_cont', 'percentile_disc', 'mode',
    'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value',
    'coalesce', 'nullif', 'greatest', 'least',
    'lower', 'upper', 'initcap', 'length', 'char_length', 'substring', 'substr', 'trim', 'btrim', 'ltrim', 'rtrim', 'replace', 'split_part', 'concat', 'concat_ws',
    'left', 'right', 'position', 'strpos', 'starts_with', 'reverse', 'md5', 'format', 'regexp_replace', 'regexp_match', 'regexp_matches', 'regexp_split_to_array', 'to_char', 'to_number', 'to_date', 'to_timestamp',
    'abs', 'round', 'trunc', 'ceil', 'ceiling', 'floor', 'sign', 'mod', 'power', 'sqrt', 'exp', 'ln', 'log',
    'date_trunc', 'date_part', 'extract', 'age', 'make_date', 'make_interval',
    'json_build_object', 'jsonb_build_object', 'json_build_array', 'jsonb_build_array', 'to_json', 'to_jsonb', 'jsonb_array_elements', 'json_array_elements',
    'jsonb_array_elements_text', 'json_array_elements_text', 'jsonb_array_length', 'json_array_length', 'jsonb_typeof', 'json_typeof', 'jsonb_each', 'jsonb_each_text',
    'jsonb_object_keys', 'jsonb_extract_path', 'jsonb_extract_path_text', 'jsonb_strip_nulls', 'jsonb_set', 'jsonb_path_query', 'jsonb_path_exists',
    'row_to_json', 'unnest', 'array_length', 'cardinality', 'array_position', 'array_to_string', 'string_to_array', 'generate_series',
  ],
);

/** Keywords that may stand before a parenthesis without being a function call. */
const PAREN_KEYWORDS = new Set(['in', 'exists', 'values', 'as', 'over', 'filter', 'cast', 'any', 'all', 'some', 'not', 'and', 'or', 'on', 'from', 'join', 'select', 'where', 'when', 'then', 'else', 'using', 'lateral', 'by', 'with', 'within', 'group', 'is', 'between', 'like', 'ilike', 'case', 'distinct', 'having', 'union', 'intersect', 'except', 'limit', 'offset', 'returning', 'array', 'row', 'materialized', 'recursive',
  // type names with a modifier: numeric(10, 2), varchar(20)
  'numeric', 'decimal', 'varchar', 'char', 'character', 'varying', 'timestamp', 'time', 'interval', 'float', 'bit']);

/**
 * Words that make a query write (a data-modifying WITH, SELECT INTO) or read the catalog. Other statements (SET,
 * CREATE, GRANT, ...) cannot occur: the text must be one statement that starts as a query.
 */
const FORBIDDEN_WORDS = new Set(['insert', 'update', 'delete', 'merge', 'into', 'information_schema']);

/** Largest statement accepted (characters). */
export const MAX_SQL_CHARS = 20_000;

/**
 * Checks one statement; returns the reason it is refused, or undefined. The text is read as tokens: comments and
 * string literals are skipped, quoted identifiers are names (never keywords), dollar quoting is refused.
 */
export function refuseSessionSql(text: string): string | undefined {
  if (text.length > MAX_SQL_CHARS) return `longer than ${MAX_SQL_CHARS} characters`;
  const words: { word: string; quoted: boolean; start: number; end: number }[] = [];
  let i = 0;
  let semicolonAt = -1;
  while (i < text.length) {
    const c = text[i]!;
    if (semicolonAt >= 0 && !/\s/.test(c)) return 'one statement only (a ; may only end it)';
    if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return 'an unclosed /* comment';
      i = end + 2;
    } else if (c === "'") {
      // '' inside a literal is a quote; a backslash escape (E'...') is refused below by the E prefix.
      let j = i + 1;
      for (;;) {
        const q = text.indexOf("'", j);
        if (q < 0) return 'an unclosed string literal';
        if (text[q + 1] === "'") j = q + 2;
        else {
          i = q + 1;
          break;
        }
      }
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return 'an unclosed quoted name';
      words.push({ word: text.slice(i + 1, end), quoted: true, start: i, end: end + 1 });
      i = end + 1;
    } else if (c === '$') {
      if (/^\$\d/.test(text.slice(i))) return 'parameters ($1) are not available';
      return 'dollar-quoted strings are not allowed';
    } else if (c === ';') {
      semicolonAt = i;
      i += 1;
    } else if (c === '\\') {
      return 'backslashes are not allowed outside string literals';
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[A-Za-z0-9_$]/.test(text[j]!)) j++;
      const word = text.slice(i, j);
      if (/^[eEuUbBxX]$/.test(word) && text[j] === "'") return `${word}'...' literals are not allowed (use plain '...')`;
      words.push({ word: word.toLowerCase(), quoted: false, start: i, end: j });
      i = j;
    } else i += 1;
  }
  const first = words[0];
  if (!first || first.quoted || !['select', 'with', 'values', 'table'].includes(first.word)) return 'only a query is allowed (SELECT, WITH, VALUES or TABLE)';
  for (let k = 0; k < words.length; k++) {
    const w = words[k]!;
    if (w.word.startsWith('pg_') || w.word.startsWith('lo_')) return `'${w.word}': system catalogs and functions are not available`;
    if (!w.quoted && FORBIDDEN_WORDS.has(w.word)) return `'${w.word}' is not allowed: a session's SQL only reads`;
    // A quoted name before ( is a function call too ("set_config"(...)).
    const after = text.slice(w.end).match(/^\s*(\(|\.)/)?.[1];
    const before = k > 0 ? text.slice(words[k - 1]!.end, w.start).trim() : '';
    // `as t(id, name)` and `(values ...) t(id, name)` name an alias's columns: not a call.
    const prev = k > 0 ? words[k - 1]! : undefined;
    const aliasColumns = (prev && !prev.quoted && prev.word === 'as' && before === '') || before.endsWith(')');
    if (after === '(' && !aliasColumns && before !== '.' && (w.quoted || !PAREN_KEYWORDS.has(w.word)) && !ALLOWED_FUNCTIONS.has(w.word)) return `function '${w.word}' is not allowed`;
    if (after === '(' && before === '.') return `'${w.word}': schema-qualified functions are not allowed`;
  }
  return undefined;
}
