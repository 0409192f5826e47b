/**
 * Text measures for a layout computed on the server, where no font can be measured: per-character widths of a
 * typical sans-serif face, erring wide so that boxes hold their text in any browser font.
 */

/** Font size (px) of labels; the stylesheet uses the same. */
export const LABEL_FONT_PX = 12;
/** Font size (px) of sublabels and edge labels. */
export const SMALL_FONT_PX = 11;
/** Labels longer than this many characters are cut with an ellipsis (the tooltip keeps them whole). */
export const MAX_LABEL_CHARS = 32;

const NARROW = new Set([...`iljtf.,:;'!|()[]{} `]);
const WIDE = new Set([...'mwMW@%']);

/** Estimated width in px of `text` at `fontPx`. */
export function textWidth(text: string, fontPx = LABEL_FONT_PX): number {
  let em = 0;
  for (const ch of text) {
    if (NARROW.has(ch)) em += 0.34;
    else if (WIDE.has(ch)) em += 0.9;
    else if (ch >= 'A' && ch <= 'Z') em += 0.7;
    else if (ch.charCodeAt(0) > 0x2e80) em += 1; // CJK and other wide scripts
    else em += 0.6;
  }
  return Math.ceil(em * fontPx);
}

/** `text` cut to `max` characters (code points) with an ellipsis. */
export function shorten(text: string, max = MAX_LABEL_CHARS): string {
  const chars = [...text.replace(/\s+/g, ' ')];
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
}

/** Keeps only CSS class words of letters, digits, '_' and '-'. */
export function safeClasses(className: string | undefined): string {
  return (className ?? '')
    .split(/\s+/)
    .filter((w) => /^[A-Za-z_-][A-Za-z0-9_-]*$/.test(w))
    .join(' ');
}
