/**
 * The connection registry (Redis, through @upstash/redis): which connection listens to which channel, and
 * whose it is. Redis because the state is small, short-lived and hot: every key carries a TTL renewed by the
 * connection's activity (connect, subscribe), so connections that vanish without a `$disconnect` expire on
 * their own, and a fan-out reads a channel's connections in one round trip (SMEMBERS, or SINTER for the
 * changes only one user sees). API Gateway closes a connection after 2 hours at most: the TTL.
 *
 *   push:conn:{connection}      the owner, as JSON {user, service}
 *   push:subs:{connection}      SET of the channels it listens to
 *   push:channel:{channel}      SET of the connections listening to it
 *   push:user:{user}            SET of the user's connections
 */
import type { Principal } from '../auth/principal.js';
import { getRedis, toRedisError } from '../redis/client.js';

export const CONNECTION_TTL_SECONDS = 2 * 60 * 60;

const connKey = (connectionId: string) => `push:conn:${connectionId}`;
const subsKey = (connectionId: string) => `push:subs:${connectionId}`;
const channelKey = (channelId: string) => `push:channel:${channelId}`;
const userKey = (userId: string) => `push:user:${userId}`;

async function redis() {
  return getRedis();
}

async function run<T>(work: (client: Awaited<ReturnType<typeof getRedis>>) => Promise<T>): Promise<T> {
  const client = await redis();
  try {
    return await work(client);
  } catch (error) {
    throw toRedisError(error);
  }
}

export async function registerConnection(connectionId: string, principal: Principal): Promise<void> {
  await run(async (client) => {
    const pipeline = client.pipeline();
    pipeline.set(connKey(connectionId), JSON.stringify({ user: principal.userId, service: principal.isService }), { ex: CONNECTION_TTL_SECONDS });
    pipeline.sadd(userKey(principal.userId), connectionId);
    pipeline.expire(userKey(principal.userId), CONNECTION_TTL_SECONDS);
    await pipeline.exec();
  });
}

/** The principal a connection was opened by; undefined once it is gone or expired. */
export async function connectionOwner(connectionId: string): Promise<Principal | undefined> {
  const stored = await run((client) => client.get<{ user: string; service: boolean }>(connKey(connectionId)));
  return stored ? { userId: stored.user, isService: stored.service } : undefined;
}

export async function subscribe(connectionId: string, channelIds: readonly string[]): Promise<void> {
  if (channelIds.length === 0) return;
  await run(async (client) => {
    const pipeline = client.pipeline();
    pipeline.sadd(subsKey(connectionId), channelIds[0]!, ...channelIds.slice(1));
    pipeline.expire(subsKey(connectionId), CONNECTION_TTL_SECONDS);
    // Subscribing is activity: the connection's own keys live on.
    pipeline.expire(connKey(connectionId), CONNECTION_TTL_SECONDS);
    for (const channelId of channelIds) {
      pipeline.sadd(channelKey(channelId), connectionId);
      pipeline.expire(channelKey(channelId), CONNECTION_TTL_SECONDS);
    }
    await pipeline.exec();
  });
}

export async function unsubscribe(connectionId: string, channelIds: readonly string[]): Promise<void> {
  if (channelIds.length === 0) return;
  await run(async (client) => {
    const pipeline = client.pipeline();
    pipeline.srem(subsKey(connectionId), channelIds[0]!, ...channelIds.slice(1));
    for (const channelId of channelIds) pipeline.srem(channelKey(channelId), connectionId);
    await pipeline.exec();
  });
}

/** A connection closed (or found gone): every trace of it. */
export async function forgetConnection(connectionId: string): Promise<void> {
  await run(async (client) => {
    const [owner, channels] = await Promise.all([
      client.get<{ user: string }>(connKey(connectionId)),
      client.smembers(subsKey(connectionId)),
    ]);
    const pipeline = client.pipeline();
    for (const channelId of channels) pipeline.srem(channelKey(channelId), connectionId);
    if (owner) pipeline.srem(userKey(owner.user), connectionId);
    pipeline.del(connKey(connectionId), subsKey(connectionId));
    await pipeline.exec();
  });
}

/** The connections listening to the channel: one round trip. */
export async function channelConnections(channelId: string): Promise<string[]> {
  return run((client) => client.smembers(channelKey(channelId)));
}

/** The connections of one user listening to the channel (a change only they see): one round trip. */
export async function userChannelConnections(channelId: string, userId: string): Promise<string[]> {
  return run((client) => client.sinter(channelKey(channelId), userKey(userId)));
}

/** Every connection of the user. */
export async function userConnections(userId: string): Promise<string[]> {
  return run((client) => client.smembers(userKey(userId)));
}

/** A member left or was removed: none of their connections listens to the channel from now on. */
export async function unsubscribeUser(channelId: string, userId: string): Promise<void> {
  await run(async (client) => {
    const connections = await client.sinter(channelKey(channelId), userKey(userId));
    if (connections.length === 0) return;
    const pipeline = client.pipeline();
    pipeline.srem(channelKey(channelId), connections[0]!, ...connections.slice(1));
    for (const connectionId of connections) pipeline.srem(subsKey(connectionId), channelId);
    await pipeline.exec();
  });
}

/** A deleted channel: nobody listens to it any more. */
export async function dropChannel(channelId: string): Promise<void> {
  await run(async (client) => {
    const connections = await client.smembers(channelKey(channelId));
    const pipeline = client.pipeline();
    for (const connectionId of connections) pipeline.srem(subsKey(connectionId), channelId);
    pipeline.del(channelKey(channelId));
    await pipeline.exec();
  });
}
