/**
 * channel_readers: every user that ever got a read position (here) or a mention row (lib/mentions/store.ts
 * writes the same index) in a channel, so the purge of a deleted channel finds each (channel, user) partition
 * of message_read_positions and message_mentions: members who left, service principals, mentioned
 * non-members. One clustering row per user, written before the user's first row, idempotently.
 */
import cassandra from 'cassandra-driver';
import { readPages, write } from '../scylla/execute.js';

/** Before a read-position write: the user is named in the channel's index (an idempotent upsert). */
export async function recordReader(channelId: string, userId: string): Promise<void> {
  await write('INSERT INTO channel_readers (channel_id, user_id) VALUES (?, ?)', [channelId, userId]);
}

/** Every user the index names for the channel. */
export async function readerIds(channelId: string, pageSize = 5000): Promise<string[]> {
  const users: string[] = [];
  for await (const rows of readPages('SELECT user_id FROM channel_readers WHERE channel_id = ?', [channelId], pageSize)) {
    users.push(...rows.map((row) => String(row.get('user_id') as cassandra.types.Uuid)));
  }
  return users;
}

/** The purge's last use of the index: one partition tombstone. */
export async function forgetReaders(channelId: string): Promise<void> {
  await write('DELETE FROM channel_readers WHERE channel_id = ?', [channelId]);
}
