/** Reads Server-Sent Events off a response body and yields the `data:` payload of each event, until `[DONE]`. */

/**
 * Yields each event's data (multi-line data joined by newlines, comments and other fields skipped).
 * `touch` is called on every chunk of bytes, so the idle timer sees a slow but live stream.
 */
export async function* sseData(body: ReadableStream<Uint8Array>, touch: () => void): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = '';
  let data: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      touch();
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        let line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line === '') {
          if (data.length > 0) {
            const payload = data.join('\n');
            data = [];
            if (payload === '[DONE]') return;
            yield payload;
          }
        } else if (line.startsWith('data:')) {
          data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
        }
      }
    }
    // A server that closes without the blank line after its last event still meant that event.
    if (data.length > 0 && data.join('\n') !== '[DONE]') yield data.join('\n');
  } finally {
    reader.releaseLock();
  }
}
