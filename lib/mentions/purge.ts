/** Removing a deleted channel's mention rows: one partition per (channel, user), so one tombstone per user. */
import { mapConcurrently, write } from '../scylla/execute.js';

export async function purgeMentions(channelId: string, userIds: readonly string[], concurrency: number): Promise<void> {
  await mapConcurrently(userIds, concurrency, (userId) => write('DELETE FROM message_mentions WHERE channel_id = ? AND user_id = ?', [channelId, userId]));
}
