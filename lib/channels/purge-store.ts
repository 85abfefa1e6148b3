/**
 * channel_purges: where the purge of a deleted channel stands (the step reached and, within the message
 * step, the last bucket cleared), so a purge interrupted anywhere resumes instead of starting over. Also
 * whether a channel may be purged at all: only one PostgreSQL has marked deleted (or already dropped).
 */
import { pgQuery } from '../postgres/pool.js';
import { read, write } from '../scylla/execute.js';

export interface PurgeCheckpoint {
  step: string;
  cursor: string | null;
}

export async function readPurgeCheckpoint(channelId: string): Promise<PurgeCheckpoint | undefined> {
  const row = (await read('SELECT step, cursor FROM channel_purges WHERE channel_id = ?', [channelId])).first();
  if (!row || row.get('step') === null) return undefined;
  return { step: row.get('step') as string, cursor: (row.get('cursor') as string | null) ?? null };
}

export async function savePurgeCheckpoint(channelId: string, checkpoint: PurgeCheckpoint): Promise<void> {
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
