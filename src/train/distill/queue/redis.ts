/**
 * Reaching the Redis that carries the labelling queue. ioredis (under BullMQ) retries a refused
 * connection forever, which would leave `slimtext label --queue` or `slimtext worker` hanging
 * silently on a wrong URL; so both first connect once with retries off and a short timeout, and
 * fail with the URL and the reason.
 */
import { Redis } from 'ioredis';
import { SlimtextError } from '../../../errors.js';

export interface RedisTarget {
  url: string;
  host: string;
  port: number;
  db: number;
  password?: string;
  username?: string;
}

/** `redis://[user:pass@]HOST[:PORT][/DB]`. */
export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SlimtextError(`--queue: '${url}' is not a URL; expected redis://HOST:PORT`);
  }
  if (u.protocol !== 'redis:') throw new SlimtextError(`--queue: '${url}' is not a redis:// URL; expected redis://HOST:PORT`);
  if (!u.hostname) throw new SlimtextError(`--queue: '${url}' names no host; expected redis://HOST:PORT`);
  const port = u.port ? Number(u.port) : 6379;
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new SlimtextError(`--queue: '${url}': the database after the '/' must be a whole number`);
  return {
    url,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    db,
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
  };
}

/** Connection options for BullMQ's Queue / Worker / QueueEvents. */
export function connectionOf(t: RedisTarget): { host: string; port: number; db: number; password?: string; username?: string; maxRetriesPerRequest: null } {
  return { host: t.host, port: t.port, db: t.db, password: t.password, username: t.username, maxRetriesPerRequest: null };
}

/** Connects once (no retries, `timeoutMs`), pings, and disconnects; throws naming the URL. */
export async function checkRedis(t: RedisTarget, timeoutMs = 3000): Promise<void> {
  const client = new Redis({
    host: t.host,
    port: t.port,
    db: t.db,
    password: t.password,
    username: t.username,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let cause: Error | undefined;
  client.on('error', (e: Error) => void (cause ??= e)); // reported below, once: the socket's own error says more than ioredis's 'Connection is closed'
  try {
    await client.connect();
    const pong = await client.ping();
    if (pong !== 'PONG') throw new Error(`answered ${JSON.stringify(pong)} to PING`);
  } catch (e) {
    const why = (cause ?? (e as Error)).message || String(e);
    throw new SlimtextError(`cannot reach Redis at ${t.url}: ${why} (is redis-server running there, and is the port open?)`);
  } finally {
    client.disconnect();
  }
}
