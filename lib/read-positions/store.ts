/**
 * message_read_positions: one cell per (channel, user). The cell is written with the message's own time as
 * its write timestamp, so the store keeps the newest position whatever order concurrent devices' writes
 * arrive in: no read-modify-write, no lightweight transaction, and it can never move backwards.
 */
import cassandra from 'cassandra-driver';
import { writeConsistency } from '../scylla/client.js';
import { read, write, writeAtomically, type Statement } from '../scylla/execute.js';
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
export async function advancePosition(
  channelId: string,
  userId: string,
  messageId: bigint,
  along: { statements?: readonly Statement[]; options?: cassandra.QueryOptions } = {},
): Promise<bigint | null> {
  await writeAtomically(
    [
      {
        query: 'UPDATE message_read_positions USING TIMESTAMP ? SET message_id = ? WHERE channel_id = ? AND user_id = ?',
        params: [writeTimestampOf(messageId), toLong(messageId), channelId, userId],
      },
      ...(along.statements ?? []),
    ],
    along.options,
  );
  return storedPosition(channelId, userId, writeConsistency());
}

/** The position as stored now, read at the write consistency (before moving it: is it a move at all?). */
export function currentPosition(channelId: string, userId: string): Promise<bigint | null> {
  return storedPosition(channelId, userId, writeConsistency());
}

/** Purge (and a member's removal): the user's position in the channel, one partition tombstone. Callers fan out with mapBounded. */
export async function deletePosition(channelId: string, userId: string): Promise<void> {
  await write('DELETE FROM message_read_positions WHERE channel_id = ? AND user_id = ?', [channelId, userId]);
}
