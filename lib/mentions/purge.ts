/** Removing a deleted channel's mention rows: one partition per (channel, user), so one tombstone per member. */
import { write } from '../scylla/execute.js';

export async function purgeMentions(channelId: string, userIds: readonly string[]): Promise<void> {
  await Promise.all(userIds.map((userId) => write('DELETE FROM message_mentions WHERE channel_id = ? AND user_id = ?', [channelId, userId])));
}
