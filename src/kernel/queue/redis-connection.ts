/**
 * How the kernel connects to Redis: straight to `redis.url`, or through Redis Sentinel, which names the current
 * primary of `masterName` and follows it across failovers. With Sentinel the URL still gives the credentials, the
 * database number and TLS; its host and port are not used.
 */
import { Redis, type RedisOptions } from 'ioredis';

/** The `redis.sentinel` slice of the configuration. */
export interface RedisSentinelConfig {
  /** The name the sentinels monitor the primary under (`sentinel monitor <name> ...`). */
  masterName: string;
  /** Sentinel addresses, `host:port`. */
  nodes: string[];
  /** The sentinels' own password (`requirepass` of the sentinels), if any. */
  password?: string;
}

/** Where Redis is: the URL and, optionally, the sentinels that find its primary. */
export interface RedisConnection {
  url: string;
  sentinel?: RedisSentinelConfig;
}

/** `host:port` (IPv6 in brackets) to ioredis's shape. */
function hostPort(node: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(node);
  if (!m) throw new Error(`sentinel node '${node}' is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** The ioredis options of `c` with `extra` merged in (the URL's host and port are replaced by the sentinels). */
export function redisOptions(c: RedisConnection, extra: RedisOptions = {}): RedisOptions {
  if (!c.sentinel) return extra;
  const url = new URL(c.url);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined;
  return {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {}, enableTLSForSentinelMode: true } : {}),
    sentinels: c.sentinel.nodes.map(hostPort),
    name: c.sentinel.masterName,
    ...(c.sentinel.password ? { sentinelPassword: c.sentinel.password } : {}),
    ...extra,
  };
}

/** A new ioredis client for `c`. */
export function createRedis(c: RedisConnection, extra: RedisOptions = {}): Redis {
  return c.sentinel ? new Redis(redisOptions(c, extra)) : new Redis(c.url, extra);
}
