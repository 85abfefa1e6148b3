/**
 * Removing a deleted channel's reactions. Both tables are partitioned per message, so the purge first asks
 * which of a page of message ids have any reaction partition (one single-partition read per message and
 * table, a bounded number in flight), then drops only those partitions: a message nobody reacted to costs
 * no tombstone.
 */
import { mapConcurrently, read, write } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';

export async function purgeReactions(channelId: string, messageIds: readonly bigint[], concurrency: number): Promise<number> {
  if (messageIds.length === 0) return 0;
  const reacted = await mapConcurrently(messageIds, concurrency, async (messageId) => {
    const id = toLong(messageId);
    const [rows, counts] = await Promise.all([
      read('SELECT emoji FROM message_reactions WHERE channel_id = ? AND message_id = ? LIMIT 1', [channelId, id]),
      read('SELECT emoji FROM message_reaction_counts WHERE channel_id = ? AND message_id = ? LIMIT 1', [channelId, id]),
    ]);
    return rows.rowLength + counts.rowLength > 0 ? messageId : undefined;
  });
  const found = reacted.filter((id): id is bigint => id !== undefined);
  await mapConcurrently(found, concurrency, async (messageId) => {
    const id = toLong(messageId);
    await Promise.all([
      write('DELETE FROM message_reactions WHERE channel_id = ? AND message_id = ?', [channelId, id]),
      write('DELETE FROM message_reaction_counts WHERE channel_id = ? AND message_id = ?', [channelId, id]),
    ]);
  });
  return found.length;
}
