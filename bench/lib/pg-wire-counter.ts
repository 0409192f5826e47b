/**
 * A loopback TCP proxy in front of PostgreSQL that counts, per client connection, round trips (a client write
 * after the server has answered) and executed statements by SQL text. Diagnostic only: it adds latency.
 */
import { createConnection, createServer, type Socket } from 'node:net';

/** What went over the wire since the last reset. */
export interface WireCounts {
  /** Client turns: each one waits for the server before the client can go on. */
  roundTrips: number;
  /** Executed statements by label (verb and first table, e.g. `update workflow_runs`). */
  statements: Map<string, number>;
  /** Round trips that executed nothing (Parse/Describe then Flush, to learn parameter types before binding). */
  describeOnly: number;
}

/** Per-connection parser state of the client→server stream. */
interface Conn {
  buf: Buffer;
  started: boolean;
  serverSpoke: boolean;
  /** Prepared statement name → label; the unnamed statement is under ''. */
  prepared: Map<string, string>;
  /** Label of the statement bound to the unnamed portal. */
  bound?: string;
  /** The current client turn sent an Execute or a simple Query; a turn without one only parsed or described. */
  executed: boolean;
  /** A turn after the startup is open (so the startup exchange is not counted as describe-only). */
  inTurn: boolean;
}

const SSL_REQUEST = 80877103;

/** A short label for a SQL text: `begin`, `commit`, or the verb plus the first table it names. */
export function statementLabel(sql: string): string {
  const s = sql.trim().toLowerCase().replace(/\s+/g, ' ');
  const verb = /^[a-z]+/.exec(s)?.[0] ?? '?';
  const table = /(?:\bfrom|\binto|^update) "?([a-z_][a-z0-9_.]*)"?/.exec(s)?.[1];
  return table ? `${verb} ${table.replace(/^.*\./, '')}` : verb;
}

function cstring(buf: Buffer, at: number): [string, number] {
  const end = buf.indexOf(0, at);
  return [buf.toString('utf8', at, end), end + 1];
}

/** Starts the proxy on an ephemeral port; `counts()` sums every connection opened through it. */
export async function startPgWireCounter(target: { host: string; port: number }): Promise<{ port: number; counts(): WireCounts; reset(): void; close(): Promise<void> }> {
  let counts: WireCounts = { roundTrips: 0, statements: new Map(), describeOnly: 0 };
  const sockets = new Set<Socket>();
  const count = (label: string) => counts.statements.set(label, (counts.statements.get(label) ?? 0) + 1);

  // Reads whole messages off the client stream: the untyped startup (or SSL request) first, then typed ones.
  function parse(c: Conn): void {
    for (;;) {
      if (!c.started) {
        if (c.buf.length < 8) return;
        const len = c.buf.readInt32BE(0);
        if (c.buf.length < len) return;
        if (c.buf.readInt32BE(4) !== SSL_REQUEST) c.started = true;
        c.buf = c.buf.subarray(len);
        continue;
      }
      if (c.buf.length < 5) return;
      const len = c.buf.readInt32BE(1);
      if (c.buf.length < len + 1) return;
      const type = String.fromCharCode(c.buf[0]!);
      const body = c.buf.subarray(5, len + 1);
      if (type === 'P') {
        const [name, at] = cstring(body, 0);
        c.prepared.set(name, statementLabel(cstring(body, at)[0]));
      } else if (type === 'B') {
        const [, at] = cstring(body, 0);
        c.bound = c.prepared.get(cstring(body, at)[0]) ?? '?';
      } else if (type === 'E') {
        count(c.bound ?? '?');
        c.executed = true;
      } else if (type === 'Q') {
        c.executed = true;
        for (const part of cstring(body, 0)[0].split(';')) if (part.trim()) count(statementLabel(part));
      }
      c.buf = c.buf.subarray(len + 1);
    }
  }

  const server = createServer((client) => {
    const upstream = createConnection(target);
    const c: Conn = { buf: Buffer.alloc(0), started: false, serverSpoke: true, prepared: new Map(), executed: false, inTurn: false };
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      if (c.serverSpoke) {
        counts.roundTrips++;
        if (c.inTurn && !c.executed) counts.describeOnly++;
        c.inTurn = c.started;
        c.executed = false;
      }
      c.serverSpoke = false;
      c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
      parse(c);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      c.serverSpoke = true;
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');
  return {
    port: address.port,
    counts: () => ({ ...counts, statements: new Map(counts.statements) }),
    reset: () => {
      counts = { roundTrips: 0, statements: new Map(), describeOnly: 0 };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
