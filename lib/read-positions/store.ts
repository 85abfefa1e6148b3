/**
 * message_read_positions: one cell per (channel, user). The cell is written with the message's own time as
 * its write timestamp, so the store keeps the newest position whatever order concurrent devices' writes
 * arrive in: no read-modify-write, no lightweight transaction, and it can never move backwards.
 */
import cassandra from 'cassandra-driver';
import { writeConsistency } from '../scylla/client.js';
import { read, write } from '../scylla/execute.js';
import { toLong, writeTimestampOf } from '../scylla/values.js';

async function storedPosition(channelId: string, userId: string, consistency?: number): Promise<bigint | null> {
  const result = await read(
    'SELECT message_id FROM message_read_positions WHERE channel_id = ? AND user_id = ?',
    [channelId, userId],
    consistency === undefined ? {} : { consistency },
  );
  const value = result.first()?.get('message_id') as cassandra.types.Long | null | undefined;
  return value ? BigInt(value.toString()) : null;
}

/** The user's position in the channel, null when never set (read at the read consistency). */
export function readPosition(channelId: string, userId: string): Promise<bigint | null> {
  return storedPosition(channelId, userId);
}

/**
 * Moves the position to `messageId` unless a newer one is stored, and returns the position now stored, read
 * back at the write consistency so the answer includes this write (and any newer one).
 */
export async function advancePosition(channelId: string, userId: string, messageId: bigint): Promise<bigint | null> {
  await write('UPDATE message_read_positions USING TIMESTAMP ? SET message_id = ? WHERE channel_id = ? AND user_id = ?', [
    writeTimestampOf(messageId),
    toLong(messageId),
    channelId,
    userId,
  ]);
  return storedPosition(channelId, userId, writeConsistency());
}

/** The user's positions in several channels, one multi-partition read; channels without one are absent. */
export async function readPositions(channelIds: readonly string[], userId: string): Promise<Map<string, bigint>> {
  const positions = new Map<string, bigint>();
  if (channelIds.length === 0) return positions;
  const result = await read('SELECT channel_id, message_id FROM message_read_positions WHERE channel_id IN ? AND user_id = ?', [channelIds, userId], { fetchSize: 0 });
  for (const row of result.rows) {
    const value = row.get('message_id') as cassandra.types.Long | null;
    if (value) positions.set(String(row.get('channel_id')), BigInt(value.toString()));
  }
  return positions;
}

/** Purge: each user's position in the channel (one partition per user, so one tombstone per reader). */
export async function deletePositions(channelId: string, userIds: readonly string[]): Promise<void> {
  await Promise.all(userIds.map((userId) => write('DELETE FROM message_read_positions WHERE channel_id = ? AND user_id = ?', [channelId, userId])));
}
