/**
 * Reactions: one row per (message, emoji, user) and a counter per (message, emoji). Counters are not
 * idempotent, so a counter moves only after a conditional write proved the row really changed; retries and
 * concurrent duplicates find the row already in the wanted state and leave the counter alone.
 */
import cassandra from 'cassandra-driver';
import { log } from '../log.js';
import { writeConsistency } from '../scylla/client.js';
import { conditionalWrite, read, readPages, write } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';

const ACTIVITY_SHARDS = 16;

export function activityDay(at = Date.now()): number {
  return Math.floor(at / 86_400_000);
}

/** Marks the message for the reconciler's counter audit (idempotent; expires after two weeks). */
async function markActivity(channelId: string, messageId: bigint): Promise<void> {
  const shard = Number(messageId % BigInt(ACTIVITY_SHARDS));
  await write('INSERT INTO reaction_activity (day, shard, channel_id, message_id) VALUES (?, ?, ?, ?)', [
    activityDay(),
    shard,
    channelId,
    toLong(messageId),
  ]);
}

async function moveCounter(channelId: string, messageId: bigint, emoji: string, delta: 1 | -1): Promise<void> {
  await conditionalWrite(
    `UPDATE message_reaction_counts SET count = count ${delta > 0 ? '+' : '-'} 1 WHERE channel_id = ? AND message_id = ? AND emoji = ?`,
    [channelId, toLong(messageId), emoji],
  );
}

/**
 * The row changed: that is the reaction's change, whatever happens to the counter. A counter move that fails
 * leaves a drift the reconciler repairs; failing the request instead would lose the change (its retry finds
 * the row in place and records nothing).
 */
async function moveCounterOrLeaveDrift(channelId: string, messageId: bigint, emoji: string, delta: 1 | -1): Promise<void> {
  try {
    await moveCounter(channelId, messageId, emoji, delta);
  } catch (error) {
    log().warn('reaction counter not moved; the reconciler repairs the drift', { channelId, emoji, error: error as Error });
  }
}

/** Returns true when this call added the reaction (and moved the counter). */
export async function addReaction(channelId: string, messageId: bigint, emoji: string, userId: string): Promise<boolean> {
  await markActivity(channelId, messageId);
  const result = await conditionalWrite(
    'INSERT INTO message_reactions (channel_id, message_id, emoji, user_id, reacted_at) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS',
    [channelId, toLong(messageId), emoji, userId, new Date()],
  );
  if (!result.wasApplied()) return false;
  await moveCounterOrLeaveDrift(channelId, messageId, emoji, 1);
  return true;
}

/** Returns true when this call removed the reaction (and moved the counter). */
export async function removeReaction(channelId: string, messageId: bigint, emoji: string, userId: string): Promise<boolean> {
  await markActivity(channelId, messageId);
  const result = await conditionalWrite(
    'DELETE FROM message_reactions WHERE channel_id = ? AND message_id = ? AND emoji = ? AND user_id = ? IF EXISTS',
    [channelId, toLong(messageId), emoji, userId],
  );
  if (!result.wasApplied()) return false;
  await moveCounterOrLeaveDrift(channelId, messageId, emoji, -1);
  return true;
}

export async function reactionCounts(channelId: string, messageId: bigint): Promise<Map<string, number>> {
  const result = await read('SELECT emoji, count FROM message_reaction_counts WHERE channel_id = ? AND message_id = ?', [
    channelId,
    toLong(messageId),
  ]);
  const counts = new Map<string, number>();
  for (const row of result.rows) {
    const count = (row.get('count') as cassandra.types.Long).toNumber();
    if (count > 0) counts.set(row.get('emoji') as string, count);
  }
  return counts;
}

/**
 * One emoji's count, read at the write consistency right after this request moved it, so the count includes
 * that move (and any other acknowledged before it).
 */
export async function reactionCount(channelId: string, messageId: bigint, emoji: string): Promise<number> {
  const result = await read(
    'SELECT count FROM message_reaction_counts WHERE channel_id = ? AND message_id = ? AND emoji = ?',
    [channelId, toLong(messageId), emoji],
    { consistency: writeConsistency() },
  );
  const count = result.first()?.get('count') as cassandra.types.Long | undefined;
  return Math.max(0, count ? count.toNumber() : 0);
}

/** The caller's own reactions among `emojis`, in one query. */
export async function reactionsOf(channelId: string, messageId: bigint, emojis: string[], userId: string): Promise<string[]> {
  if (emojis.length === 0) return [];
  const result = await read(
    'SELECT emoji FROM message_reactions WHERE channel_id = ? AND message_id = ? AND emoji IN ? AND user_id = ?',
    [channelId, toLong(messageId), emojis, userId],
  );
  return result.rows.map((row) => row.get('emoji') as string);
}

/** Rows per emoji as stored, paging through the partition (the reconciler's source of truth). */
export async function countReactionRows(channelId: string, messageId: bigint): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const pages = readPages('SELECT emoji FROM message_reactions WHERE channel_id = ? AND message_id = ?', [channelId, toLong(messageId)], 5000);
  for await (const rows of pages) {
    for (const row of rows) {
      const emoji = row.get('emoji') as string;
      counts.set(emoji, (counts.get(emoji) ?? 0) + 1);
    }
  }
  return counts;
}

/** Adds `delta` to a counter to repair drift the reconciler found. */
export async function adjustCounter(channelId: string, messageId: bigint, emoji: string, delta: number): Promise<void> {
  await conditionalWrite(
    'UPDATE message_reaction_counts SET count = count + ? WHERE channel_id = ? AND message_id = ? AND emoji = ?',
    [cassandra.types.Long.fromNumber(delta), channelId, toLong(messageId), emoji],
  );
}

export async function* activeMessages(day: number): AsyncGenerator<{ channelId: string; messageId: bigint }> {
  for (let shard = 0; shard < ACTIVITY_SHARDS; shard++) {
    for await (const rows of readPages('SELECT channel_id, message_id FROM reaction_activity WHERE day = ? AND shard = ?', [day, shard], 1000)) {
      for (const row of rows) {
        yield { channelId: String(row.get('channel_id')), messageId: BigInt((row.get('message_id') as cassandra.types.Long).toString()) };
      }
    }
  }
}

/** Up to `limit` users who reacted with `emoji`, in user-id order, after `afterUserId` (from the start when null). */
export async function reactionUserIds(
  channelId: string,
  messageId: bigint,
  emoji: string,
  afterUserId: string | null,
  limit: number,
): Promise<string[]> {
  const result =
    afterUserId === null
      ? await read('SELECT user_id FROM message_reactions WHERE channel_id = ? AND message_id = ? AND emoji = ? LIMIT ?', [
          channelId,
          toLong(messageId),
          emoji,
          limit,
        ], { fetchSize: 0 })
      : await read('SELECT user_id FROM message_reactions WHERE channel_id = ? AND message_id = ? AND emoji = ? AND user_id > ? LIMIT ?', [
          channelId,
          toLong(messageId),
          emoji,
          afterUserId,
          limit,
        ], { fetchSize: 0 });
  return result.rows.map((row) => String(row.get('user_id')));
}
