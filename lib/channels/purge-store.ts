/**
 * channel_purges: where the purge of a deleted channel stands (the step reached and, within the message
 * step, the bucket and the last message cleared), so a purge interrupted anywhere resumes instead of
 * starting over. Also whether a channel may be purged at all: only one PostgreSQL has marked deleted (or
 * already dropped), and which deleted channels still wait for theirs (the reconciler's sweep).
 */
import { pgQuery } from '../postgres/pool.js';
import { read, write } from '../scylla/execute.js';

export interface PurgeCheckpoint {
  step: string;
  cursor: string | null;
  /** When the checkpoint was last written: a purge in progress writes it after every page and step. */
  updatedAt: Date | null;
}

export async function readPurgeCheckpoint(channelId: string): Promise<PurgeCheckpoint | undefined> {
  const row = (await read('SELECT step, cursor, updated_at FROM channel_purges WHERE channel_id = ?', [channelId])).first();
  if (!row || row.get('step') === null) return undefined;
  return { step: row.get('step') as string, cursor: (row.get('cursor') as string | null) || null, updatedAt: (row.get('updated_at') as Date | null) ?? null };
}

export async function savePurgeCheckpoint(channelId: string, checkpoint: { step: string; cursor: string | null }): Promise<void> {
  await write('INSERT INTO channel_purges (channel_id, step, cursor, updated_at) VALUES (?, ?, ?, ?)', [
    channelId,
    checkpoint.step,
    checkpoint.cursor ?? '',
    new Date(),
  ]);
}

export async function clearPurgeCheckpoint(channelId: string): Promise<void> {
  await write('DELETE FROM channel_purges WHERE channel_id = ?', [channelId]);
}

/** `live`: never purge (a stray or forged request); `deleted`: marked, purge; `absent`: the row is gone too. */
export async function chatDeletionState(chatId: string): Promise<'live' | 'deleted' | 'absent'> {
  const { rows } = await pgQuery<{ deleted: boolean }>('SELECT deleted_at IS NOT NULL AS deleted FROM chats WHERE id = $1', [chatId]);
  const row = rows[0];
  if (!row) return 'absent';
  return row.deleted ? 'deleted' : 'live';
}

/**
 * Whether channel_metadata has the channel marked deleted: the Telegram ingestion's check, which must not
 * trust its container's cached link (up to 30 s old). A missing row is not a deletion (Scylla may have lost
 * a live channel's row; PostgreSQL decides that).
 */
export async function isMarkedDeleted(channelId: string): Promise<boolean> {
  const row = (await read('SELECT deleted_at FROM channel_metadata WHERE channel_id = ?', [channelId])).first();
  return Boolean(row && row.get('deleted_at') !== null);
}

/**
 * Deleted chats whose purge has not finished (the purge drops the chat row last), deleted before
 * `deletedBefore`, in id order after `afterId`: the reconciler's sweep.
 */
export async function unfinishedPurgesPage(afterId: string | null, deletedBefore: Date, limit: number): Promise<string[]> {
  const { rows } = await pgQuery<{ id: string }>(
    `SELECT id FROM chats WHERE deleted_at IS NOT NULL AND deleted_at < $2 AND ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $3`,
    [afterId, deletedBefore, limit],
  );
  return rows.map((row) => row.id);
}
