/** Removing a deleted channel's search rows, in bounded batches so no statement holds locks for long. */
import { pgQuery } from '../postgres/pool.js';

/** Deletes up to `batch` rows of the chat; returns how many went (0: none left). */
export async function purgeSearchRows(chatId: string, batch: number): Promise<number> {
  const { rowCount } = await pgQuery(
    'DELETE FROM message_search WHERE chat_id = $1 AND message_id IN (SELECT message_id FROM message_search WHERE chat_id = $1 LIMIT $2)',
    [chatId, batch],
  );
  return rowCount ?? 0;
}
