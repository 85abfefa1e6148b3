/**
 * Removing a deleted channel's reactions. Both tables are partitioned per message, so the purge first asks
 * which of a page of message ids have any reaction partition (two multi-partition reads), then drops only
 * those partitions: a message nobody reacted to costs no tombstone.
 */
import cassandra from 'cassandra-driver';
import { read, write } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';

export async function purgeReactions(channelId: string, messageIds: readonly bigint[]): Promise<number> {
  if (messageIds.length === 0) return 0;
  const ids = messageIds.map(toLong);
  const [rows, counts] = await Promise.all([
    read('SELECT DISTINCT channel_id, message_id FROM message_reactions WHERE channel_id = ? AND message_id IN ?', [channelId, ids], { fetchSize: 0 }),
    read('SELECT DISTINCT channel_id, message_id FROM message_reaction_counts WHERE channel_id = ? AND message_id IN ?', [channelId, ids], { fetchSize: 0 }),
  ]);
  const reacted = new Map<string, cassandra.types.Long>();
  for (const row of [...rows.rows, ...counts.rows]) {
    const id = row.get('message_id') as cassandra.types.Long;
    reacted.set(id.toString(), id);
  }
  await Promise.all(
    [...reacted.values()].flatMap((id) => [
      write('DELETE FROM message_reactions WHERE channel_id = ? AND message_id = ?', [channelId, id]),
      write('DELETE FROM message_reaction_counts WHERE channel_id = ? AND message_id = ?', [channelId, id]),
    ]),
  );
  return reacted.size;
}
