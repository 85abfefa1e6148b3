/**
 * pinned_messages: one row per pinned message in the channel's partition. Pinning is a conditional insert,
 * so a repeat keeps the first pin time.
 */
import cassandra from 'cassandra-driver';
import { conditionalWrite, read, write } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';

export interface Pin {
  messageId: bigint;
  pinnedAt: Date;
}

/** At most `limit` of the channel's pins, in message id order (the use case sorts them by pin time). */
export async function readPins(channelId: string, limit: number): Promise<Pin[]> {
  const result = await read('SELECT message_id, pinned_at FROM pinned_messages WHERE channel_id = ? LIMIT ?', [channelId, limit]);
  return result.rows.map((row) => ({
    messageId: BigInt((row.get('message_id') as cassandra.types.Long).toString()),
    pinnedAt: row.get('pinned_at') as Date,
  }));
}

/** True when this call pinned the message (false: it was pinned already). */
export async function insertPin(channelId: string, messageId: bigint, pinnedBy: string): Promise<boolean> {
  const result = await conditionalWrite(
    'INSERT INTO pinned_messages (channel_id, message_id, pinned_at, pinned_by) VALUES (?, ?, ?, ?) IF NOT EXISTS',
    [channelId, toLong(messageId), new Date(), pinnedBy],
  );
  return result.wasApplied();
}

/** Unpinning as a client asks it: true when this call removed the pin (false: there was none), so a repeat changes nothing. */
export async function removePin(channelId: string, messageId: bigint): Promise<boolean> {
  const result = await conditionalWrite('DELETE FROM pinned_messages WHERE channel_id = ? AND message_id = ? IF EXISTS', [channelId, toLong(messageId)]);
  return result.wasApplied();
}

/** Drops a pin without asking whether there was one (a deleted message's pin, a dangling pin found on read). */
export async function deletePin(channelId: string, messageId: bigint): Promise<void> {
  await write('DELETE FROM pinned_messages WHERE channel_id = ? AND message_id = ?', [channelId, toLong(messageId)]);
}
