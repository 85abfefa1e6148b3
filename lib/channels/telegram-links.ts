/** Which channel a Telegram chat is linked to (chats.telegram_chat_id), cached briefly in the container. */
import { pgQuery } from '../postgres/pool.js';

const CACHE_MS = 30_000;
const cache = new Map<number, { channelId: string | null; expiresAt: number }>();

export async function linkedChannel(telegramChatId: number): Promise<string | null> {
  const hit = cache.get(telegramChatId);
  if (hit && hit.expiresAt > Date.now()) return hit.channelId;
  const { rows } = await pgQuery<{ id: string }>('SELECT id FROM chats WHERE telegram_chat_id = $1 AND deleted_at IS NULL', [telegramChatId]);
  const channelId = rows[0]?.id ?? null;
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
