/**
 * message_mentions: one row per (channel, mentioned user, message) for every live message that mentions the
 * user. A user's mention count past their read position is one single-partition range read, bounded by the
 * cap, never a walk over the messages since. Rows are idempotent upserts and deletes: an edit adds the new
 * mentions and removes the dropped ones, a delete removes them all.
 */
import cassandra from 'cassandra-driver';
import { read, write } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';

const { Long } = cassandra.types;

const STATEMENTS = {
  insert: 'INSERT INTO message_mentions (channel_id, user_id, message_id) VALUES (?, ?, ?)',
  remove: 'DELETE FROM message_mentions WHERE channel_id = ? AND user_id = ? AND message_id = ?',
  insertAt: 'INSERT INTO message_mentions (channel_id, user_id, message_id) VALUES (?, ?, ?) USING TIMESTAMP ?',
  removeAt: 'DELETE FROM message_mentions USING TIMESTAMP ? WHERE channel_id = ? AND user_id = ? AND message_id = ?',
  after: 'SELECT message_id FROM message_mentions WHERE channel_id = ? AND user_id = ? AND message_id > ? LIMIT ?',
  all: 'SELECT message_id FROM message_mentions WHERE channel_id = ? AND user_id = ? LIMIT ?',
} as const;

/**
 * Records that `messageId` mentions each of `userIds` (one partition each, written in parallel). An edit passes
 * its own write timestamp, so of two edits' writes to one row the later edit's wins, whatever order they land in.
 */
export async function recordMentions(channelId: string, messageId: bigint, userIds: readonly string[], writeTimestampMicros?: number): Promise<void> {
  const id = toLong(messageId);
  // The purge's index of (channel, user) partitions first, so no mention row exists that it does not name.
  await Promise.all(userIds.map((userId) => write('INSERT INTO channel_readers (channel_id, user_id) VALUES (?, ?)', [channelId, userId])));
  await Promise.all(
    userIds.map((userId) =>
      writeTimestampMicros === undefined
        ? write(STATEMENTS.insert, [channelId, userId, id])
        : write(STATEMENTS.insertAt, [channelId, userId, id, Long.fromNumber(writeTimestampMicros)]),
    ),
  );
}

/** Removes the mention rows of `messageId` for each of `userIds` (at `writeTimestampMicros` when given). */
export async function removeMentions(channelId: string, messageId: bigint, userIds: readonly string[], writeTimestampMicros?: number): Promise<void> {
  const id = toLong(messageId);
  await Promise.all(
    userIds.map((userId) =>
      writeTimestampMicros === undefined
        ? write(STATEMENTS.remove, [channelId, userId, id])
        : write(STATEMENTS.removeAt, [Long.fromNumber(writeTimestampMicros), channelId, userId, id]),
    ),
  );
}

/**
 * How many live messages of the channel newer than `after` (all of them when null) mention the user,
 * stopping at `cap`: one range read of at most cap + 1 rows in the user's partition.
 */
export async function countMentionsAfter(
  channelId: string,
  userId: string,
  after: bigint | null,
  cap: number,
): Promise<{ count: number; capped: boolean }> {
  const result =
    after === null
      ? await read(STATEMENTS.all, [channelId, userId, cap + 1], { fetchSize: 0 })
      : await read(STATEMENTS.after, [channelId, userId, toLong(after), cap + 1], { fetchSize: 0 });
  const count = result.rows.length;
  return count > cap ? { count: cap, capped: true } : { count, capped: false };
}

