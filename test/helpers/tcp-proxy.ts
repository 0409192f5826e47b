/**
 * A loopback TCP proxy a test can partition: `cut()` black-holes traffic in both directions while every socket stays
 * open (reading stops, so bytes wait in the kernel buffers the way TCP keeps retransmitting into a dead link), and
 * `heal()` lets the held bytes through again. Nothing is dropped or reordered, so a protocol like NATS resumes
 * cleanly after a heal, exactly as it would after a real partition that ended before either side gave up.
 * `reset()` destroys every connection instead (a crashed peer or a firewall's RST).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  /** Port the proxy listens on (127.0.0.1). */
  port: number;
  /** True while traffic is black-holed. */
  readonly isCut: boolean;
  /** Black-holes both directions of every connection, current and future, keeping the sockets open. */
  cut(): void;
  /** Lets traffic flow again, held bytes first. */
  heal(): void;
  /** Destroys every open connection (clients see a reset and reconnect). */
  reset(): void;
  /** Open client connections. */
  connections(): number;
  close(): Promise<void>;
}

/** One proxied connection: bytes read while cut wait in `held` (and the socket stops reading) until heal. */
interface Pair {
  client: Socket;
  upstream: Socket;
  held: { to: Socket; data: Buffer }[];
}

/** Starts a proxy from a free loopback port (or `listenPort`) to 127.0.0.1:`targetPort`. */
export async function startTcpProxy(targetPort: number, listenPort = 0): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let cut = false;

  const pause = (p: Pair) => {
    p.client.pause();
    p.upstream.pause();
  };
  const resume = (p: Pair) => {
    for (const h of p.held.splice(0)) h.to.write(h.data);
    p.client.resume();
    p.upstream.resume();
  };
  // Forwarding by hand rather than pipe(): pipe resumes a source on 'drain', which could leak bytes through a cut.
  const forward = (p: Pair, from: Socket, to: Socket) => {
    from.on('data', (data: Buffer) => {
      if (cut) {
        p.held.push({ to, data });
        from.pause();
      } else to.write(data);
    });
  };

  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: Pair = { client, upstream, held: [] };
    pairs.add(pair);
    forward(pair, client, upstream);
    forward(pair, upstream, client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    if (cut) pause(pair);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const reset = () => {
    for (const p of [...pairs]) {
      pairs.delete(p);
      p.client.destroy();
      p.upstream.destroy();
    }
  };

  return {
    port,
    get isCut() {
      return cut;
    },
    cut() {
      cut = true;
      for (const p of pairs) pause(p);
    },
    heal() {
      cut = false;
      for (const p of pairs) resume(p);
    },
    reset,
    connections: () => pairs.size,
    async close() {
      reset();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
