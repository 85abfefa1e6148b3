/**
 * Removing a deleted channel's Telegram state: the mappings (keyed by Telegram chat and message) that still
 * name this channel, found through the channel's own index (the bucketed one, and the one before issue 16.3
 * for what a channel never reconciled since still holds only there), for every chat ever linked to it; then
 * the per-channel tables. Single-partition reads and deletes, a bounded number in flight.
 */
import cassandra from 'cassandra-driver';
import { mapConcurrently, read, readPages, write } from '../scylla/execute.js';
import { indexedTelegramIdPages, purgeTelegramIndex } from './store.js';

const { Long } = cassandra.types;

async function* legacyIdPages(channelId: string, pageSize: number): AsyncGenerator<number[]> {
  for await (const rows of readPages('SELECT telegram_message_id FROM telegram_channel_messages WHERE channel_id = ?', [channelId], pageSize)) {
    yield rows.map((row) => (row.get('telegram_message_id') as cassandra.types.Long).toNumber());
  }
}

export async function purgeTelegramMappings(channelId: string, telegramChatIds: readonly number[], pageSize: number, concurrency: number): Promise<number> {
  if (telegramChatIds.length === 0) return 0;
  let removed = 0;
  const chats = telegramChatIds.map((chatId) => Long.fromNumber(chatId));
  for (const pages of [indexedTelegramIdPages(channelId, pageSize), legacyIdPages(channelId, pageSize)]) {
    for await (const ids of pages) {
      const keys = ids.flatMap((id) => chats.map((chat) => ({ id: Long.fromNumber(id), chat })));
      const gone = await mapConcurrently(keys, concurrency, async ({ id, chat }) => {
        const mapped = (await read('SELECT channel_id FROM telegram_message_mapping WHERE telegram_message_id = ? AND telegram_chat_id = ?', [id, chat])).first();
        // A mapping of another channel (the chat linked anew, the same message id in another chat) stays.
        if (!mapped || String(mapped.get('channel_id')) !== channelId) return 0;
        await write('DELETE FROM telegram_message_mapping WHERE telegram_message_id = ? AND telegram_chat_id = ?', [id, chat]);
        return 1;
      });
      removed += gone.reduce((sum: number, n) => sum + n, 0);
    }
  }
  return removed;
}

export async function purgeTelegramChannelState(channelId: string): Promise<void> {
  await Promise.all([
    purgeTelegramIndex(channelId),
    write('DELETE FROM telegram_channel_messages WHERE channel_id = ?', [channelId]),
    write('DELETE FROM telegram_ingest_counts WHERE channel_id = ?', [channelId]),
    write('DELETE FROM telegram_reconcile_state WHERE channel_id = ?', [channelId]),
    write('DELETE FROM telegram_sync_state WHERE channel_id = ?', [channelId]),
  ]);
}
