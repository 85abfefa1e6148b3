/**
 * Which channel a Telegram chat is linked to (chats.telegram_chat_id). Only a link found is cached, briefly,
 * in the container: a chat's link rarely changes and a busy chat's updates then cost no query. "Not linked" is
 * never cached: a chat linked by another container's request would otherwise have its first messages (those
 * the bot operator sends right after linking) acknowledged and dropped for as long as the cache lasted, and
 * Telegram does not deliver them again. Updates of unlinked chats are rare (the bot is added to a chat to be
 * linked), so asking each time costs little.
 */
import cassandra from 'cassandra-driver';
import { pgQuery } from '../postgres/pool.js';
import { read, write } from '../scylla/execute.js';

const { Long } = cassandra.types;

const CACHE_MS = 30_000;
const cache = new Map<number, { channelId: string; expiresAt: number }>();

export async function linkedChannel(telegramChatId: number): Promise<string | null> {
  const hit = cache.get(telegramChatId);
  if (hit && hit.expiresAt > Date.now()) return hit.channelId;
  const { rows } = await pgQuery<{ id: string }>('SELECT id FROM chats WHERE telegram_chat_id = $1 AND deleted_at IS NULL', [telegramChatId]);
  const channelId = rows[0]?.id ?? null;
  if (channelId === null) {
    cache.delete(telegramChatId);
    return null;
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(telegramChatId, { channelId, expiresAt: Date.now() + CACHE_MS });
  return channelId;
}

/** Drops this container's cached answer for a chat whose link just changed here. */
export function forgetLinkedChat(telegramChatId: number): void {
  cache.delete(telegramChatId);
}

/** Linked channels in id order, a page at a time (the reconciler's walk). */
export async function linkedChannelsPage(afterChannelId: string | null, limit: number): Promise<{ channelId: string; telegramChatId: number }[]> {
  const { rows } = await pgQuery<{ id: string; telegram_chat_id: string }>(
    `SELECT id, telegram_chat_id FROM chats
      WHERE telegram_chat_id IS NOT NULL AND deleted_at IS NULL AND ($1::uuid IS NULL OR id > $1::uuid)
      ORDER BY id LIMIT $2`,
    [afterChannelId, limit],
  );
  return rows.map((row) => ({ channelId: row.id, telegramChatId: Number(row.telegram_chat_id) }));
}

/**
 * channel_telegram_chats: every Telegram chat ever linked to a channel, written before the link, so the purge
 * of a deleted channel drops the mappings of a chat the channel was linked to before a re-link.
 */
export async function recordChatEverLinked(channelId: string, telegramChatId: number): Promise<void> {
  await write('INSERT INTO channel_telegram_chats (channel_id, telegram_chat_id) VALUES (?, ?)', [channelId, Long.fromNumber(telegramChatId)]);
}

export async function chatsEverLinked(channelId: string): Promise<number[]> {
  const result = await read('SELECT telegram_chat_id FROM channel_telegram_chats WHERE channel_id = ?', [channelId], { fetchSize: 0 });
  return result.rows.map((row) => (row.get('telegram_chat_id') as cassandra.types.Long).toNumber());
}

export async function forgetChatsEverLinked(channelId: string): Promise<void> {
  await write('DELETE FROM channel_telegram_chats WHERE channel_id = ?', [channelId]);
}
