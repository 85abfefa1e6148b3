/**
 * Removing a deleted channel's Telegram bookkeeping. The dedup mapping is keyed by Telegram's (message, chat)
 * ids, so it is found through the channel's own index (telegram_channel_messages) a page at a time, and a
 * mapping is dropped only while it still names this channel (the chat may already be linked anew). The
 * per-channel tables are one partition each.
 */
import cassandra from 'cassandra-driver';
import { read, readPages, write } from '../scylla/execute.js';

const { Long } = cassandra.types;

export async function purgeTelegramMappings(channelId: string, telegramChatId: number, pageSize: number): Promise<number> {
  let removed = 0;
  const chat = Long.fromNumber(telegramChatId);
  for await (const rows of readPages('SELECT telegram_message_id FROM telegram_channel_messages WHERE channel_id = ?', [channelId], pageSize)) {
    const ids = rows.map((row) => row.get('telegram_message_id') as cassandra.types.Long);
    if (ids.length === 0) continue;
    const mapped = await read(
      'SELECT telegram_message_id, channel_id FROM telegram_message_mapping WHERE telegram_message_id IN ? AND telegram_chat_id = ?',
      [ids, chat],
      { fetchSize: 0 },
    );
    const ours = mapped.rows.filter((row) => String(row.get('channel_id')) === channelId);
    await Promise.all(
      ours.map((row) =>
        write('DELETE FROM telegram_message_mapping WHERE telegram_message_id = ? AND telegram_chat_id = ?', [row.get('telegram_message_id') as cassandra.types.Long, chat]),
      ),
    );
    removed += ours.length;
  }
  return removed;
}

export async function purgeTelegramChannelState(channelId: string): Promise<void> {
  await Promise.all([
    write('DELETE FROM telegram_channel_messages WHERE channel_id = ?', [channelId]),
    write('DELETE FROM telegram_ingest_counts WHERE channel_id = ?', [channelId]),
    write('DELETE FROM telegram_reconcile_state WHERE channel_id = ?', [channelId]),
    write('DELETE FROM telegram_sync_state WHERE channel_id = ?', [channelId]),
  ]);
}
