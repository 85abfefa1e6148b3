/** Removing a deleted channel's pins: one partition. */
import { write } from '../scylla/execute.js';

export async function purgePins(channelId: string): Promise<void> {
  await write('DELETE FROM pinned_messages WHERE channel_id = ?', [channelId]);
}
