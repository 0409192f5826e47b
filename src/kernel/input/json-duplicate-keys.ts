/**
 * Finds keys named twice in one object of a JSON text. JSON.parse keeps the last one silently, so a definition
 * sent as JSON could differ from what its author reads, while the same document as YAML is refused.
 */

/** One open object (with the keys seen so far and the current key) or array (with the current index). */
interface Frame {
  keys: Set<string> | null;
  key: string;
  index: number;
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** Dotted paths of the repeated keys (at most `max`), in text order; `text` must be valid JSON (JSON.parse it first). */
export function duplicateJsonKeys(text: string, max = 20): string[] {
  const stack: Frame[] = [];
  const found: string[] = [];
  const pathHere = () => stack.map((f) => (f.keys ? f.key : String(f.index))).join('.');
  let i = 0;
  // One pass, no recursion: a deeply nested text costs a frame per level on the heap, not on the call stack.
  while (i < text.length && found.length < max) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let end = i + 1;
      while (text.charCodeAt(end) !== 0x22) end += text.charCodeAt(end) === 0x5c ? 2 : 1;
      let next = end + 1;
      while (next < text.length && isSpace(text.charCodeAt(next))) next++;
      const top = stack.at(-1);
      // In valid JSON a string followed by ':' is a key of the innermost object.
      if (top?.keys && text[next] === ':') {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        top.key = key;
        if (top.keys.has(key)) found.push(pathHere());
        else top.keys.add(key);
        i = next + 1;
      } else i = end + 1;
      continue;
    }
    if (c === 0x7b) stack.push({ keys: new Set(), key: '', index: 0 });
    else if (c === 0x5b) stack.push({ keys: null, key: '', index: 0 });
    else if (c === 0x7d || c === 0x5d) stack.pop();
    else if (c === 0x2c) {
      const top = stack.at(-1);
      if (top && !top.keys) top.index++;
    }
    i++;
  }
  return found;
}
