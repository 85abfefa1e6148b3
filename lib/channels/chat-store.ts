/** chats and participants in PostgreSQL: the authority on who may touch a channel. */
import { ConflictError } from '../errors.js';
import { getPostgres, pgQuery, toPostgresError } from '../postgres/pool.js';

export interface ChatAccess {
  ownerId: string;
  /** The caller's role, or null when not a participant. */
  role: 'owner' | 'member' | null;
}

export async function insertChat(chat: {
  id: string;
  name: string;
  ownerId: string;
  telegramChatId: number | null;
  createdAt: Date;
}): Promise<void> {
  const db = await getPostgres();
  let client;
  try {
    client = await db.connect();
  } catch (error) {
    throw toPostgresError(error);
  }
  try {
    await client.query('BEGIN');
    await client.query(
      'INSERT INTO chats (id, name, owner_id, telegram_chat_id, created_at) VALUES ($1, $2, $3, $4, $5)',
      [chat.id, chat.name, chat.ownerId, chat.telegramChatId, chat.createdAt],
    );
    await client.query("INSERT INTO participants (chat_id, user_id, role) VALUES ($1, $2, 'owner')", [chat.id, chat.ownerId]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if ((error as { code?: string }).code === '23505') {
      throw new ConflictError('That Telegram chat is already linked to another channel');
    }
    throw toPostgresError(error);
  } finally {
    client.release();
  }
}

/** One round trip: does the chat exist, who owns it, and is the user in it. */
export async function getChatAccess(chatId: string, userId: string): Promise<ChatAccess | undefined> {
  const { rows } = await pgQuery<{ owner_id: string; role: 'owner' | 'member' | null }>(
    `SELECT c.owner_id, p.role
       FROM chats c LEFT JOIN participants p ON p.chat_id = c.id AND p.user_id = $2
      WHERE c.id = $1`,
    [chatId, userId],
  );
  const row = rows[0];
  return row ? { ownerId: row.owner_id, role: row.role } : undefined;
}

export async function getChat(chatId: string): Promise<
  { id: string; name: string; ownerId: string; telegramChatId: number | null; createdAt: Date } | undefined
> {
  const { rows } = await pgQuery<{ id: string; name: string; owner_id: string; telegram_chat_id: string | null; created_at: Date }>(
    'SELECT id, name, owner_id, telegram_chat_id, created_at FROM chats WHERE id = $1',
    [chatId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    id: row.id,
    name: row.name,
    ownerId: row.owner_id,
    telegramChatId: row.telegram_chat_id === null ? null : Number(row.telegram_chat_id),
    createdAt: row.created_at,
  };
}

export async function addParticipant(chatId: string, userId: string): Promise<void> {
  await pgQuery("INSERT INTO participants (chat_id, user_id, role) VALUES ($1, $2, 'member') ON CONFLICT DO NOTHING", [
    chatId,
    userId,
  ]);
}

export async function removeParticipant(chatId: string, userId: string): Promise<void> {
  await pgQuery("DELETE FROM participants WHERE chat_id = $1 AND user_id = $2 AND role <> 'owner'", [chatId, userId]);
}

/** Every participant of a chat (typing reads check each one's key). */
export async function channelMemberIds(chatId: string): Promise<string[]> {
  const { rows } = await pgQuery<{ user_id: string }>('SELECT user_id FROM participants WHERE chat_id = $1 ORDER BY user_id', [chatId]);
  return rows.map((row) => row.user_id);
}
