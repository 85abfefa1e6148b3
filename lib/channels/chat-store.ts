/** chats and participants in PostgreSQL: the authority on who may touch a channel. */
import { ConflictError } from '../errors.js';
import { getPostgres, pgQuery, toPostgresError, type PgQuery } from '../postgres/pool.js';

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
      'INSERT INTO chats (id, name, owner_id, telegram_chat_id, created_at, last_activity_at) VALUES ($1, $2, $3, $4, $5, $5)',
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

/** One round trip: does the chat exist (and is not deleted), who owns it, and is the user in it. */
export async function getChatAccess(chatId: string, userId: string): Promise<ChatAccess | undefined> {
  const { rows } = await pgQuery<{ owner_id: string; role: 'owner' | 'member' | null }>(
    `SELECT c.owner_id, p.role
       FROM chats c LEFT JOIN participants p ON p.chat_id = c.id AND p.user_id = $2
      WHERE c.id = $1 AND c.deleted_at IS NULL`,
    [chatId, userId],
  );
  const row = rows[0];
  return row ? { ownerId: row.owner_id, role: row.role } : undefined;
}

export async function getChat(chatId: string): Promise<
  { id: string; name: string; ownerId: string; telegramChatId: number | null; createdAt: Date } | undefined
> {
  const { rows } = await pgQuery<{ id: string; name: string; owner_id: string; telegram_chat_id: string | null; created_at: Date }>(
    'SELECT id, name, owner_id, telegram_chat_id, created_at FROM chats WHERE id = $1 AND deleted_at IS NULL',
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

/** True when the user was not a participant before (the caller records the change). */
export async function addParticipant(chatId: string, userId: string, query: PgQuery = pgQuery): Promise<boolean> {
  const { rowCount } = await query("INSERT INTO participants (chat_id, user_id, role) VALUES ($1, $2, 'member') ON CONFLICT DO NOTHING", [
    chatId,
    userId,
  ]);
  return (rowCount ?? 0) > 0;
}

/** True when the user was a participant (not the owner) and is no longer. */
export async function removeParticipant(chatId: string, userId: string, query: PgQuery = pgQuery): Promise<boolean> {
  const { rowCount } = await query("DELETE FROM participants WHERE chat_id = $1 AND user_id = $2 AND role <> 'owner'", [chatId, userId]);
  return (rowCount ?? 0) > 0;
}

/** Every participant of a chat (typing reads check each one's key). */
export async function channelMemberIds(chatId: string): Promise<string[]> {
  const { rows } = await pgQuery<{ user_id: string }>('SELECT user_id FROM participants WHERE chat_id = $1 ORDER BY user_id', [chatId]);
  return rows.map((row) => row.user_id);
}

/** Renames a live chat; false when there is none. */
export async function renameChat(chatId: string, name: string, query: PgQuery = pgQuery): Promise<boolean> {
  const { rowCount } = await query('UPDATE chats SET name = $2 WHERE id = $1 AND deleted_at IS NULL', [chatId, name]);
  return (rowCount ?? 0) > 0;
}

/**
 * Links a Telegram chat to a live chat (replacing any earlier link of this chat). The UNIQUE constraint on
 * telegram_chat_id makes a chat linked to another channel a 409. False when the chat does not exist.
 */
export async function linkTelegramChat(chatId: string, telegramChatId: number, query: PgQuery = pgQuery): Promise<boolean> {
  try {
    const { rowCount } = await query('UPDATE chats SET telegram_chat_id = $2 WHERE id = $1 AND deleted_at IS NULL', [chatId, telegramChatId]);
    return (rowCount ?? 0) > 0;
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new ConflictError('That Telegram chat is already linked to another channel');
    throw error;
  }
}

/**
 * The first step of a delete: from this statement on the member check answers 404 everywhere. The Telegram
 * link is released at once (the chat may be linked anew; the webhook stops routing to this channel). Returns
 * the Telegram chat it released (null: none), or undefined when the chat was already deleted or never existed.
 */
export async function markChatDeleted(chatId: string, query: PgQuery = pgQuery): Promise<{ releasedTelegramChatId: number | null } | undefined> {
  const { rows } = await query<{ released: string | null }>(
    `UPDATE chats c SET deleted_at = now(), telegram_chat_id = NULL
       FROM (SELECT id, telegram_chat_id FROM chats WHERE id = $1 AND deleted_at IS NULL FOR UPDATE) old
      WHERE c.id = old.id
     RETURNING old.telegram_chat_id AS released`,
    [chatId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { releasedTelegramChatId: row.released === null ? null : Number(row.released) };
}

/** The last step of a purge: the chat row and (ON DELETE CASCADE) its participants. */
export async function deleteChatRow(chatId: string): Promise<void> {
  await pgQuery('DELETE FROM chats WHERE id = $1', [chatId]);
}

/** How far the stored activity may trail the newest message: a busy chat's row is written at most this often. */
export const ACTIVITY_PRECISION_MS = 1000;

/**
 * Moves the chat's activity forward to `at` (never back), coalesced: one single-row UPDATE that writes (and
 * locks the row) only when the stored activity is more than ACTIVITY_PRECISION_MS older than `at`. In a busy
 * chat the writes of the next second find the condition false on the row they see and take no row lock, so
 * concurrent senders do not queue behind one another; the cost is that the stored activity trails the newest
 * message by up to that second.
 */
export async function touchChatActivity(chatId: string, at: Date): Promise<void> {
  await pgQuery(`UPDATE chats SET last_activity_at = $2 WHERE id = $1 AND last_activity_at < $2::timestamptz - interval '${ACTIVITY_PRECISION_MS} milliseconds'`, [chatId, at]);
}

export interface UserChat {
  id: string;
  name: string;
  ownerId: string;
  telegramChatId: number | null;
  createdAt: Date;
  lastActivityAt: Date;
}

/** Keyset position in a user's chats: (last_activity_at, id), both descending. */
export interface ActivityKey {
  at: Date;
  id: string;
}

/**
 * A page of the user's live chats, most recent activity first (ties by id), strictly after `after`. One
 * query: the user's participants rows (index-only), the chats by key, a top-N sort.
 */
export async function userChatsPage(userId: string, after: ActivityKey | null, limit: number): Promise<UserChat[]> {
  const { rows } = await pgQuery<{ id: string; name: string; owner_id: string; telegram_chat_id: string | null; created_at: Date; last_activity_at: Date }>(
    // The LATERAL primary-key lookup (OFFSET 0 keeps the planner from flattening it) pins the plan: the
    // user's participants rows from their index, one chats lookup each, a top-N sort. A plain join was planned
    // as a nested loop over a chats scan whenever statistics lagged the table (90 ms for 1,000 channels).
    `SELECT c.id, c.name, c.owner_id, c.telegram_chat_id, c.created_at, c.last_activity_at
       FROM participants p
       CROSS JOIN LATERAL (SELECT * FROM chats WHERE chats.id = p.chat_id OFFSET 0) c
      WHERE p.user_id = $1 AND c.deleted_at IS NULL
        AND ($2::timestamptz IS NULL OR (c.last_activity_at, c.id) < ($2::timestamptz, $3::uuid))
      ORDER BY c.last_activity_at DESC, c.id DESC
      LIMIT $4`,
    [userId, after?.at ?? null, after?.id ?? null, limit],
  );
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    ownerId: row.owner_id,
    telegramChatId: row.telegram_chat_id === null ? null : Number(row.telegram_chat_id),
    createdAt: row.created_at,
    lastActivityAt: row.last_activity_at,
  }));
}

export interface Participant {
  userId: string;
  role: 'owner' | 'member';
  joinedAt: Date;
}

/** A page of a chat's participants in user id order, strictly after `afterUserId`. */
export async function participantsPage(chatId: string, afterUserId: string | null, limit: number): Promise<Participant[]> {
  const { rows } = await pgQuery<{ user_id: string; role: 'owner' | 'member'; joined_at: Date }>(
    `SELECT user_id, role, joined_at FROM participants
      WHERE chat_id = $1 AND ($2::uuid IS NULL OR user_id > $2::uuid)
      ORDER BY user_id LIMIT $3`,
    [chatId, afterUserId, limit],
  );
  return rows.map((row) => ({ userId: row.user_id, role: row.role, joinedAt: row.joined_at }));
}
