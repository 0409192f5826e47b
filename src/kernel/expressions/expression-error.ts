/** The error raised by the template and condition parsers: an Invalid that also knows the column where it went wrong. */
import { Invalid } from '../errors.ts';

/** A syntax error in a template or condition; `column` is 1-based within the parsed text. */
export class ExpressionError extends Invalid {
  constructor(
    readonly reason: string,
    readonly column: number,
  ) {
    super(`${reason} (at column ${column})`, [{ path: '(expression)', message: `${reason} (at column ${column})` }]);
  }
}
